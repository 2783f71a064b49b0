import { randomUUID } from 'node:crypto';
import { OverseerError } from '../core/errors.ts';
import { WorkspaceIdSchema } from '../contracts/common.ts';
import type { Job, JobSubmitInput } from '../contracts/job.ts';
import { MAX_WAIT_MS } from '../contracts/queue.ts';
import type { Worker, WorkerRegisterInput } from '../contracts/worker.ts';
import type { ClaimAnswer, HeartbeatAnswer } from '../contracts/answers.ts';
import { eventStream, type EventStream, type EventStreamOptions } from './events.ts';
import { HttpTransport } from './http-transport.ts';
import { NatsTransport } from './nats-transport.ts';
import { DEFAULT_RETRY, withRetry, type RetryInfo, type RetryPolicy } from './retry.ts';
import type { Transport } from './transport.ts';
import { subjects } from '../transport/subjects.ts';
import type { CommandInput, CommandName, CommandOutput } from '../api/commands.ts';

/** What every connection names. */
interface CommonOptions {
  workspaceId: string;
  /** A bearer token (`overseer token create --scopes queue:work,...`). */
  token: string;
  /** The wait for one answer besides a claim's `waitMs` (default 5,000 ms). */
  timeoutMs?: number;
  /** How retryable errors are retried (see {@link RetryPolicy}). */
  retry?: Partial<RetryPolicy>;
  /** Called before each retry (to log it). */
  onRetry?: (info: RetryInfo) => void;
}

/** Options of {@link connectAgent}: the REST API (`http`) or NATS (`nats`). */
export type AgentOptions = CommonOptions &
  (
    | { /** The server's base URL, e.g. `http://127.0.0.1:8080`. */ http: string; nats?: never }
    | {
        /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
        nats: string | string[];
        /** The reply subject prefix (default `_INBOX_<workspaceId>`, what `overseer nats-config` allows). */
        inboxPrefix?: string;
        /** The connection name the NATS server shows (default `overseer-agent`). */
        name?: string;
        http?: never;
      }
  );

/** Options of a call that changes state. */
export interface CallOptions {
  /** The key of this logical call (default: a fresh UUID), sent on every try. */
  idempotencyKey?: string;
}

/** A claimed job with its lease: pass `leaseToken` to heartbeat, complete and fail. */
export interface Claim {
  job: Job;
  leaseToken: string;
  leaseExpiresAt: number;
  /** How many times the job was retried before this claim. */
  retryCount: number;
}

/** A claim as the server answers it. */
type ClaimWire = ClaimAnswer;

export type { HeartbeatAnswer };

function toClaim(answer: ClaimWire): Claim | null {
  if (!answer.job || !answer.lease) return null;
  return {
    job: answer.job,
    leaseToken: answer.lease.token,
    leaseExpiresAt: answer.lease.expiresAt,
    retryCount: answer.workOrder?.retryCount ?? 0,
  };
}

/** How much earlier than its deadline an empty claim answer must come to be followed by another claim. */
const EARLY_ANSWER_MS = 100;

/** Worker states in which a claim is refused because of a supervisor's directive (heartbeat tells which). */
const DIRECTED_STATES: readonly unknown[] = ['PAUSED', 'TERMINATED', 'COMPLETED'];

/**
 * An agent's connection to Overseer, the same calls over HTTP or NATS. Every call that changes state sends an
 * idempotency key (one per logical call, the same on each retry) and retries STORAGE_UNAVAILABLE and
 * RATE_LIMITED with backoff a bounded number of times; errors are OverseerErrors with the server's code and
 * details.
 */
export class Agent {
  private current: Worker | undefined;
  private closed = false;
  private readonly streams = new Set<EventStream>();
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;

  constructor(
    private readonly transport: Transport,
    readonly workspaceId: string,
    private readonly options: CommonOptions,
  ) {
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** `http` or `nats`. */
  get transportKind(): 'http' | 'nats' {
    return this.transport.kind;
  }

  /** The worker this agent registered, if any. */
  get worker(): Worker | undefined {
    return this.current;
  }

  /** Registers the worker this agent acts as (scope `queue:work`). */
  async register(input: WorkerRegisterInput, options: CallOptions = {}): Promise<Worker> {
    this.current = await this.mutate('workers.register', { ...input }, options);
    return this.current;
  }

  /**
   * Claims the next job this worker can run, waiting up to `waitMs` (at most 30,000) for one. `null` when none
   * came, or when the worker may not claim now because it was paused or terminated: `heartbeat()` says which.
   * An empty answer that comes back early (the server's wait was shorter) is followed by a new claim, under a
   * new idempotency key, for the rest of the wait.
   */
  async claim(input: { waitMs?: number } = {}, options: CallOptions = {}): Promise<Claim | null> {
    const workerId = this.workerId();
    const deadline = Date.now() + Math.min(Math.max(0, input.waitMs ?? 0), MAX_WAIT_MS);
    for (let first = true; ; first = false) {
      const waitMs = Math.max(0, deadline - Date.now());
      let claim: Claim | null;
      try {
        const answer = await this.mutate('queue.claim', { workerId, waitMs }, first ? options : {}, waitMs);
        claim = toClaim(answer);
      } catch (err) {
        if (err instanceof OverseerError && err.code === 'INVALID_STATE_TRANSITION')
          if (DIRECTED_STATES.includes(err.details['state'])) return null;
        throw err;
      }
      if (claim || deadline - Date.now() < EARLY_ANSWER_MS) return claim;
    }
  }

  /** Keeps the worker alive and, with a lease token, extends that lease; answers the supervisor's directive. */
  async heartbeat(leaseToken?: string, options: CallOptions = {}): Promise<HeartbeatAnswer> {
    const input = { workerId: this.workerId(), ...(leaseToken === undefined ? {} : { leaseToken }) };
    return this.mutate('workers.heartbeat', input, options);
  }

  /**
   * Reports the job done. With `claimNext`, claims the worker's next job in the same commit: `next` is that
   * claim, or `null` when there was none (without `claimNext`, `next` is absent).
   */
  async complete(
    jobId: string,
    leaseToken: string,
    input: { result?: unknown; claimNext?: boolean } = {},
    options: CallOptions = {},
  ): Promise<{ job: Job; next?: Claim | null }> {
    const answer = await this.mutate('queue.complete', { jobId, leaseToken, ...input }, options);
    return answer.next === undefined ? { job: answer.job } : { job: answer.job, next: toClaim(answer.next) };
  }

  /** Reports the job failed: retried after a backoff while its retries last, unless `retryable: false`. */
  async fail(
    jobId: string,
    leaseToken: string,
    input: { reason: string; retryable?: boolean },
    options: CallOptions = {},
  ): Promise<{ job: Job }> {
    const answer = await this.mutate('queue.fail', { jobId, leaseToken, ...input }, options);
    return { job: answer.job };
  }

  /** Submits a job, e.g. a child of the job at hand (`parentJobId`); scope `jobs:write`. */
  submit(input: JobSubmitInput, options: CallOptions = {}): Promise<Job> {
    return this.mutate('jobs.submit', { ...input }, options);
  }

  /** Drains the worker: it completes once it holds no job (then heartbeats answer `terminate`). */
  async deregister(options: CallOptions = {}): Promise<Worker> {
    this.current = await this.mutate('workers.deregister', { workerId: this.workerId() }, options);
    return this.current;
  }

  /**
   * The workspace's journal records in seq order, each once, from `afterSeq` on (scope `jobs:read` or
   * `supervisor:read`). Over NATS live from `overseer.evt.<workspace>.>`, gaps filled from `events.list`; over
   * HTTP by polling `GET /api/v1/events?afterSeq=`.
   *
   * @example
   * for await (const record of agent.events({ afterSeq: 0 })) console.log(record.seq, record.kind, record.to);
   */
  events(options: EventStreamOptions = {}): EventStream {
    const stream = eventStream(
      {
        list: (afterSeq, limit) => this.query('events.list', { afterSeq, limit }),
        subscribe: (onRecord) => this.transport.subscribe(onRecord),
      },
      {
        ...options,
        pollMs: options.pollMs ?? (this.transport.kind === 'nats' ? 5_000 : 1_000),
        onEnd: () => this.streams.delete(stream),
      },
    );
    this.streams.add(stream);
    return stream;
  }

  /** Ends every event stream and closes the connection. The worker stays registered (see `deregister`). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams) stream.close();
    await this.transport.close();
  }

  private workerId(): string {
    if (!this.current)
      throw new OverseerError('VALIDATION_FAILED', 'Register the worker first: agent.register({ name }).');
    return this.current.id;
  }

  /** A state change: one idempotency key for every try. */
  private mutate<N extends CommandName>(
    command: N,
    input: CommandInput<N>,
    options: CallOptions,
    waitMs = 0,
  ): Promise<CommandOutput<N>> {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    return this.send(command, input, idempotencyKey, waitMs) as Promise<CommandOutput<N>>;
  }

  private query<N extends CommandName>(command: N, input: CommandInput<N>): Promise<CommandOutput<N>> {
    return this.send(command, input, undefined, 0) as Promise<CommandOutput<N>>;
  }

  /** Sends a command with retries. Its answer is what the command's output schema describes (mutate, query). */
  private send(
    command: CommandName,
    input: unknown,
    idempotencyKey: string | undefined,
    waitMs: number,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(closedError(command));
    return withRetry(
      command,
      () =>
        this.closed
          ? Promise.reject(closedError(command))
          : this.transport.call(command, input as Record<string, unknown>, {
              idempotencyKey,
              timeoutMs: this.timeoutMs + waitMs,
            }),
      this.policy,
      { onRetry: this.options.onRetry, stopped: () => this.closed },
    );
  }
}

const closedError = (command: string): OverseerError =>
  new OverseerError('STORAGE_UNAVAILABLE', `The agent is closed; ${command} was not sent.`, {
    reason: 'closed',
    command,
  });

/**
 * Connects an agent to Overseer over HTTP or NATS; the calls are the same on both.
 *
 * @example
 * const agent = await connectAgent({ workspaceId: 'acme', token, nats: 'nats://127.0.0.1:4222' });
 * await agent.register({ name: 'claude-1', capabilities: ['typescript'] });
 * const claim = await agent.claim({ waitMs: 10_000 });
 * if (claim) await agent.complete(claim.job.id, claim.leaseToken, { result: { ok: true } });
 * await agent.close();
 */
export async function connectAgent(options: AgentOptions): Promise<Agent> {
  const ws = WorkspaceIdSchema.safeParse(options.workspaceId);
  if (!ws.success)
    throw new OverseerError('VALIDATION_FAILED', 'The workspace id is invalid.', {
      workspaceId: options.workspaceId,
    });
  if (!options.token)
    throw new OverseerError('UNAUTHENTICATED', 'A token is required: connectAgent({ token }).');
  if ((options.http === undefined) === (options.nats === undefined))
    throw new OverseerError('VALIDATION_FAILED', 'Name one transport: connectAgent({ http }) or ({ nats }).');
  const transport =
    options.http !== undefined
      ? new HttpTransport(options.http, ws.data, options.token)
      : await NatsTransport.connect({
          servers: options.nats,
          workspaceId: ws.data,
          token: options.token,
          inboxPrefix: options.inboxPrefix ?? subjects.workspaceInbox(ws.data),
          name: options.name ?? 'overseer-agent',
        });
  return new Agent(transport, ws.data, options);
}
