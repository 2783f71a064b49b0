import { randomUUID } from 'node:crypto';
import { OverseerError } from '../core/errors.ts';
import type { Job, JobSubmitInput } from '../contracts/job.ts';
import { MAX_WAIT_MS } from '../contracts/queue.ts';
import type { Worker, WorkerRegisterInput } from '../contracts/worker.ts';
import type { HeartbeatAnswer, WorkerCredential, WorkerRegistration } from '../contracts/answers.ts';
import type { AgentSettings, CallOptions } from './agent-options.ts';
import { toClaim, type Claim, type TaskClaim } from './claim.ts';
import { noTask, PhaseKeeper, type TaskTokens, type TransitionRequest } from './phase-keeper.ts';
import type {
  ContractAnswer,
  StateSnapshot,
  TokenRefreshAnswer,
  TransitionAnswer,
} from '../contracts/phase-commands.ts';
import { eventStream, type EventStream, type EventStreamOptions } from './events.ts';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.ts';
import type { Transport } from './transport.ts';
import type { CommandInput, CommandName, CommandOutput } from '../api/commands.ts';

export type { HeartbeatAnswer, WorkerCredential, WorkerRegistration };
export type { ContractAnswer, StateSnapshot, TokenRefreshAnswer, TransitionAnswer, TransitionRequest };

/** How much earlier than its deadline an empty claim answer must come to be followed by another claim. */
const EARLY_ANSWER_MS = 100;

/** Worker states in which a claim is refused because of a supervisor's directive (heartbeat tells which). */
const DIRECTED_STATES: readonly unknown[] = ['PAUSED', 'TERMINATED', 'COMPLETED'];

/** The calls an agent makes as its worker: they carry the worker's own credential once the agent holds one. */
const WORKER_CALLS: ReadonlySet<CommandName> = new Set<CommandName>([
  'queue.claim',
  'queue.complete',
  'queue.fail',
  'workers.heartbeat',
  'workers.deregister',
  'tokens.refresh',
  'workflow.contract',
]);

/** Whether an error says the worker's credential was revoked: its worker reached COMPLETED or TERMINATED. */
const isRevoked = (err: unknown): boolean =>
  err instanceof OverseerError && err.code === 'UNAUTHENTICATED' && err.details['reason'] === 'ERR_REVOKED';

/**
 * An agent's connection to Overseer, the same calls over HTTP or NATS. After `register()` (or from the start,
 * resumed with `workerId`) it acts as one worker: its calls on that worker carry the worker's own credential,
 * renewed by heartbeat answers. Every call that changes state sends an idempotency key (one per logical call, the
 * same on each retry) and retries STORAGE_UNAVAILABLE and RATE_LIMITED with backoff a bounded number of times;
 * errors are OverseerErrors with the server's code and details.
 */
export class Agent {
  private current: Worker | undefined;
  private boundTo: string | undefined;
  private own: WorkerCredential | undefined;
  private closed = false;
  private readonly streams = new Set<EventStream>();
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly keeper: PhaseKeeper;

  constructor(
    private readonly transport: Transport,
    readonly workspaceId: string,
    private readonly options: AgentSettings,
  ) {
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.boundTo = options.workerId;
    this.keeper = new PhaseKeeper(options.clock ?? Date);
  }

  /** `http` or `nats`. */
  get transportKind(): 'http' | 'nats' {
    return this.transport.kind;
  }

  /** The worker this agent registered (or drained), as last answered; undefined when it resumed one. */
  get worker(): Worker | undefined {
    return this.current;
  }

  /** The id of the worker this agent acts as: registered, or resumed with `workerId`. */
  get workerId(): string | undefined {
    return this.boundTo;
  }

  /**
   * The worker's own credential, the newest the agent received (its registration's, then each renewal); hand it
   * to `connectAgent({ token, workerId })` to resume the worker elsewhere. Undefined before any came.
   */
  get credential(): WorkerCredential | undefined {
    return this.own;
  }

  /**
   * Registers the worker this agent acts as (scope `queue:work` or `workers:register`). The answer carries the
   * worker's own credential, which the agent's later calls on the worker carry (see {@link credential}).
   */
  async register(input: WorkerRegisterInput, options: CallOptions = {}): Promise<WorkerRegistration> {
    const registration = await this.mutate('workers.register', { ...input }, options);
    const { credential, ...worker } = registration;
    this.current = worker;
    this.boundTo = worker.id;
    this.own = undefined;
    this.adopt(credential);
    return registration;
  }

  /**
   * Claims the next job this worker can run, waiting up to `waitMs` (at most 30,000) for one. `null` when none
   * came, or when the worker may not claim now because it was paused or has ended (terminated, drained, its
   * credential revoked): `heartbeat()` says which. An empty answer that comes back early (the server's wait was
   * shorter) is followed by a new claim, under a new idempotency key, for the rest of the wait.
   */
  async claim(
    input: { waitMs?: number; capabilities?: string[] } = {},
    options: CallOptions = {},
  ): Promise<Claim | null> {
    const workerId = this.ownWorkerId();
    const deadline = Date.now() + Math.min(Math.max(0, input.waitMs ?? 0), MAX_WAIT_MS);
    for (let first = true; ; first = false) {
      const waitMs = Math.max(0, deadline - Date.now());
      let claim: Claim | null;
      try {
        const only = input.capabilities === undefined ? {} : { capabilities: input.capabilities };
        const answer = await this.mutate(
          'queue.claim',
          { workerId, waitMs, ...only },
          first ? options : {},
          waitMs,
        );
        claim = this.keeper.keep(toClaim(answer));
      } catch (err) {
        if (isRevoked(err)) return null;
        if (err instanceof OverseerError && err.code === 'INVALID_STATE_TRANSITION')
          if (DIRECTED_STATES.includes(err.details['state'])) return null;
        throw err;
      }
      if (claim || deadline - Date.now() < EARLY_ANSWER_MS) return claim;
    }
  }

  /**
   * Claims a task like {@link claim} (`capabilities`: a subset of the worker's, to claim only jobs they cover); for a
   * job under a workflow the agent keeps its phase and check tokens, which the phase calls carry.
   *
   * @example
   * const task = await agent.claimTask({ waitMs: 10_000 });
   * if (task?.phase === 'PLAN') await agent.requestTransition({ targetPhase: 'TDD', artifacts: { plan, scope } });
   */
  async claimTask(
    input: { waitMs?: number; capabilities?: string[] } = {},
    options: CallOptions = {},
  ): Promise<TaskClaim | null> {
    const claim = await this.claim(input, options);
    return claim && { ...claim, phase: this.keeper.phase };
  }

  /**
   * The workflow task the agent holds, as it last heard: its job, phase, phase token and check token (for a hook:
   * it survives phase changes and lapses with the lease). Renewed by transitions and refreshes.
   */
  get task(): TaskTokens {
    const { jobId, phase, phaseToken, checkToken } = this.keeper;
    return { jobId, phase, phaseToken, checkToken };
  }

  /**
   * The task as the server sees it (`state.snapshot`, with the phase token): its phase, what the phase allows and
   * the moves out of it, dependencies, completed tasks of its workstream, blockers of the last move, artifacts.
   */
  async getStateSnapshot(): Promise<StateSnapshot> {
    const refresh = () => this.refreshToken();
    const snapshot = await this.keeper.withPhaseToken(
      (token) => this.query('state.snapshot', {}, token),
      refresh,
    );
    this.keeper.phase = snapshot.phase.phase;
    return snapshot;
  }

  /**
   * Asks to move the task to `targetPhase` with the move's artifacts; `currentPhase` is the phase the agent knows.
   * Allowed: the agent keeps the new phase and its token (none after the final phase: the job is complete).
   * Refused: `{ allowed: false, blockers }` says what to fix; nothing changed. A `currentPhase` the server does not
   * share answers 409 INVALID_STATE_TRANSITION (read the snapshot), a stale token 401 PHASE_TOKEN_STALE.
   *
   * @example
   * const answer = await agent.requestTransition({ targetPhase: 'TDD', artifacts: { plan, scope } });
   * if (!answer.allowed) for (const b of answer.blockers) console.log(b.gate, b.reason);
   */
  async requestTransition(request: TransitionRequest, options: CallOptions = {}): Promise<TransitionAnswer> {
    const currentPhase = this.keeper.phase;
    if (currentPhase === undefined) throw noTask();
    const input = { currentPhase, targetPhase: request.targetPhase, artifacts: request.artifacts ?? {} };
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    const answer = await this.keeper.withPhaseToken(
      (token) => this.mutate('workflow.transition', input, { idempotencyKey }, 0, token),
      () => this.refreshToken(),
    );
    if (answer.allowed && answer.phase !== undefined) {
      if (answer.phaseToken) this.keeper.adoptPhaseToken(answer.phaseToken, answer.phase);
      else this.keeper.finish(answer.phase);
    }
    return answer;
  }

  /**
   * A new phase token (and check token) for the task's current phase while its lease lives, with the phase token
   * (expired or not) or, without one, the worker's credential. The agent calls it on its own before a phase call
   * when less than 10 % of the token's life is left, and once after a 401 TOKEN_EXPIRED.
   */
  async refreshToken(options: CallOptions = {}): Promise<TokenRefreshAnswer> {
    const jobId = this.keeper.jobId;
    if (jobId === undefined) throw noTask();
    const held = this.keeper.phaseToken?.token;
    const answer = await this.mutate('tokens.refresh', held ? {} : { jobId }, options, 0, held);
    this.keeper.adoptPhaseToken(answer.phaseToken, answer.phase);
    if (answer.checkToken) this.keeper.checkToken = answer.checkToken;
    return answer;
  }

  /** The contract of the task's workflow as Markdown, for the agent's prompt (`workflow.contract`). */
  getContract(jobId?: string): Promise<ContractAnswer> {
    const id = jobId ?? this.keeper.jobId;
    if (id === undefined) return Promise.reject(noTask());
    return this.query('workflow.contract', { jobId: id });
  }

  /**
   * Keeps the worker alive and, with a lease's secret (`claim.leaseToken`), extends that lease; answers the
   * supervisor's directive. A renewed credential in the answer is taken up at once. A credential refused as revoked
   * (401 `UNAUTHENTICATED`, `details.reason: 'ERR_REVOKED'`: the worker was terminated or completed) answers the
   * `terminate` directive: the agent should stop.
   */
  async heartbeat(leaseToken?: string, options: CallOptions = {}): Promise<HeartbeatAnswer> {
    const input = { workerId: this.ownWorkerId(), ...(leaseToken === undefined ? {} : { leaseToken }) };
    let answer: HeartbeatAnswer;
    try {
      answer = await this.mutate('workers.heartbeat', input, options);
    } catch (err) {
      if (isRevoked(err)) return { directive: 'terminate', leaseExpiresAt: null };
      throw err;
    }
    if (answer.credential) this.adopt(answer.credential);
    if (answer.checkToken && this.keeper.jobId !== undefined) this.keeper.checkToken = answer.checkToken;
    return answer;
  }

  /**
   * Reports the job done, with the lease's secret. With `claimNext`, claims the worker's next job in the same
   * commit: `next` is that claim, or `null` when there was none (without `claimNext`, `next` is absent).
   */
  async complete(
    jobId: string,
    leaseToken: string,
    input: { result?: unknown; claimNext?: boolean } = {},
    options: CallOptions = {},
  ): Promise<{ job: Job; next?: Claim | null }> {
    const answer = await this.mutate('queue.complete', { jobId, leaseToken, ...input }, options);
    if (this.keeper.jobId === jobId) this.keeper.clear();
    return answer.next === undefined
      ? { job: answer.job }
      : { job: answer.job, next: this.keeper.keep(toClaim(answer.next)) };
  }

  /** Reports the job failed, with the lease's secret: retried after a backoff while its retries last, unless `retryable: false`. */
  async fail(
    jobId: string,
    leaseToken: string,
    input: { reason: string; retryable?: boolean },
    options: CallOptions = {},
  ): Promise<{ job: Job }> {
    const answer = await this.mutate('queue.fail', { jobId, leaseToken, ...input }, options);
    if (this.keeper.jobId === jobId) this.keeper.clear();
    return { job: answer.job };
  }

  /**
   * Submits a job, e.g. a child of the job at hand (`parentJobId`); scope `jobs:write`, which a worker's own
   * credential lacks: this call carries the token the agent connected with.
   */
  submit(input: JobSubmitInput, options: CallOptions = {}): Promise<Job> {
    return this.mutate('jobs.submit', { ...input }, options);
  }

  /** Drains the worker: it completes once it holds no job (then its credential is revoked, heartbeats answer `terminate`). */
  async deregister(options: CallOptions = {}): Promise<Worker> {
    this.current = await this.mutate('workers.deregister', { workerId: this.ownWorkerId() }, options);
    return this.current;
  }

  /**
   * The workspace's journal records in seq order, each once, from `afterSeq` on (scope `jobs:read` or
   * `supervisor:read`, which a worker's own credential lacks: the stream reads with the token the agent connected
   * with). Over NATS live from `overseer.evt.<workspace>.>`, gaps filled from `events.list`; over HTTP by polling
   * `GET /api/v1/events?afterSeq=`.
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

  private ownWorkerId(): string {
    if (this.boundTo === undefined)
      throw new OverseerError(
        'VALIDATION_FAILED',
        'Register the worker first (agent.register({ name })), or connect with its workerId.',
      );
    return this.boundTo;
  }

  /** Keeps the newest credential of the worker (answers may come out of order) and reports it. */
  private adopt(credential: WorkerCredential): void {
    if (this.own !== undefined && this.own.expiresAt >= credential.expiresAt) return;
    this.own = credential;
    this.options.onCredential?.(credential);
  }

  /** The token a command carries: the worker's own credential for the worker's calls once there is one. */
  private tokenFor(command: CommandName): string {
    return WORKER_CALLS.has(command) && this.own !== undefined ? this.own.token : this.options.token;
  }

  /** A state change: one idempotency key for every try. */
  private mutate<N extends CommandName>(
    command: N,
    input: CommandInput<N>,
    options: CallOptions,
    waitMs = 0,
    token?: string,
  ): Promise<CommandOutput<N>> {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    return this.send(command, input, idempotencyKey, waitMs, token) as Promise<CommandOutput<N>>;
  }

  private query<N extends CommandName>(
    command: N,
    input: CommandInput<N>,
    token?: string,
  ): Promise<CommandOutput<N>> {
    return this.send(command, input, undefined, 0, token) as Promise<CommandOutput<N>>;
  }

  /**
   * Sends a command with retries, each try with the newest token (a renewal taken up meanwhile counts). Its answer
   * is what the command's output schema describes (mutate, query). `token`: the phase token of a phase call.
   */
  private send(
    command: CommandName,
    input: unknown,
    idempotencyKey: string | undefined,
    waitMs: number,
    token?: string,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(closedError(command));
    return withRetry(
      command,
      () =>
        this.closed
          ? Promise.reject(closedError(command))
          : this.transport.call(command, input as Record<string, unknown>, {
              token: token ?? this.tokenFor(command),
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
