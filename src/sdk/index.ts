/**
 * The agent SDK (`overseer/sdk`): an agent registers as a worker, claims jobs, heartbeats, completes or fails
 * them and follows the workspace's events, over HTTP or NATS with the same calls. Once registered it acts with the
 * worker's own credential.
 *
 * @example
 * ```ts
 * const agent = await connectAgent({ workspaceId: 'acme', token, nats: 'nats://127.0.0.1:4222' });
 * await agent.register({ name: 'claude-1' }); // its calls now carry the worker's own credential
 * const claim = await agent.claim({ waitMs: 10_000 });
 * if (claim) await agent.complete(claim.job.id, claim.leaseToken, { claimNext: true });
 * await agent.close();
 * ```
 */
export { Agent } from './agent.ts';
export { connectAgent } from './connect-agent.ts';
export type {
  ContractAnswer,
  HeartbeatAnswer,
  StateSnapshot,
  TokenRefreshAnswer,
  TransitionAnswer,
  TransitionRequest,
  WorkerCredential,
  WorkerRegistration,
} from './agent.ts';
export type { IssuedToken } from '../contracts/answers.ts';
export type { AgentOptions, AgentSettings, CallOptions } from './agent-options.ts';
export type { Claim, TaskClaim } from './claim.ts';
export type { TaskTokens } from './phase-keeper.ts';
export type { EventStream, EventStreamOptions } from './events.ts';
export type { RetryInfo, RetryPolicy } from './retry.ts';
export { OverseerError, isOverseerError } from '../core/errors.ts';
export type { ErrorCode } from '../core/errors.ts';
export type { Job, JobSubmitInput } from '../contracts/job.ts';
export type { JournalRecord } from '../contracts/journal.ts';
export type { Directive, Worker, WorkerRegisterInput } from '../contracts/worker.ts';
