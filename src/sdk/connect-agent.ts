import { OverseerError } from '../core/errors.ts';
import { WorkspaceIdSchema } from '../contracts/common.ts';
import { WORKER_ID_PATTERN } from '../contracts/worker.ts';
import { subjects } from '../transport/subjects.ts';
import { Agent } from './agent.ts';
import type { AgentOptions } from './agent-options.ts';
import { HttpTransport } from './http-transport.ts';
import { NatsTransport } from './nats-transport.ts';

/**
 * Connects an agent to Overseer over HTTP or NATS; the calls are the same on both. With `workerId` (and that
 * worker's credential as `token`) the agent resumes an existing worker instead of registering one.
 *
 * @example
 * const agent = await connectAgent({ workspaceId: 'acme', token, nats: 'nats://127.0.0.1:4222' });
 * await agent.register({ name: 'claude-1', capabilities: ['typescript'] }); // from now on: the worker's credential
 * const claim = await agent.claim({ waitMs: 10_000 });
 * if (claim) await agent.complete(claim.job.id, claim.leaseToken, { result: { ok: true } });
 * await agent.close();
 *
 * // Later, or in another process: the same worker, with its own credential.
 * const again = await connectAgent({ workspaceId: 'acme', token: credential.token, workerId, nats: url });
 */
export async function connectAgent(options: AgentOptions): Promise<Agent> {
  const ws = WorkspaceIdSchema.safeParse(options.workspaceId);
  if (!ws.success)
    throw new OverseerError('VALIDATION_FAILED', 'The workspace id is invalid.', {
      workspaceId: options.workspaceId,
    });
  if (!options.token)
    throw new OverseerError('UNAUTHENTICATED', 'A token is required: connectAgent({ token }).');
  if (options.workerId !== undefined && !WORKER_ID_PATTERN.test(options.workerId))
    throw new OverseerError('VALIDATION_FAILED', `Worker ids match ${WORKER_ID_PATTERN.source}.`, {
      workerId: options.workerId,
    });
  if ((options.http === undefined) === (options.nats === undefined))
    throw new OverseerError('VALIDATION_FAILED', 'Name one transport: connectAgent({ http }) or ({ nats }).');
  const transport =
    options.http !== undefined
      ? new HttpTransport(options.http, ws.data)
      : await NatsTransport.connect({
          servers: options.nats,
          workspaceId: ws.data,
          inboxPrefix:
            options.inboxPrefix ??
            (options.workerId === undefined
              ? subjects.workspaceInbox(ws.data)
              : subjects.workerInbox(ws.data, options.workerId)),
          name: options.name ?? 'overseer-agent',
        });
  return new Agent(transport, ws.data, options);
}
