/**
 * The agent SDK (`overseer/sdk`): an agent registers as a worker, claims jobs, heartbeats, completes or fails
 * them and follows the workspace's events, over HTTP or NATS with the same calls.
 *
 * @example
 * ```ts
 * const agent = await connectAgent({ workspaceId: 'acme', token, nats: 'nats://127.0.0.1:4222' });
 * await agent.register({ name: 'claude-1' });
 * const claim = await agent.claim({ waitMs: 10_000 });
 * if (claim) await agent.complete(claim.job.id, claim.leaseToken, { claimNext: true });
 * await agent.close();
 * ```
 */
export { Agent, connectAgent } from './agent.ts';
export type { AgentOptions, CallOptions, Claim, HeartbeatAnswer } from './agent.ts';
export type { EventStream, EventStreamOptions } from './events.ts';
export type { RetryInfo, RetryPolicy } from './retry.ts';
export { OverseerError, isOverseerError } from '../core/errors.ts';
export type { ErrorCode } from '../core/errors.ts';
export type { Job, JobSubmitInput } from '../contracts/job.ts';
export type { JournalRecord } from '../contracts/journal.ts';
export type { Directive, Worker, WorkerRegisterInput } from '../contracts/worker.ts';
