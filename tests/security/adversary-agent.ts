/**
 * One agent of the adversarial race (see `adversary.ts`): it registers its worker with its own unbound token, then
 * loops with the worker's own credential — claim, heartbeat, complete or fail — and between its own calls makes the
 * attacks of its schedule on what it did not claim, with ids read from `events.list`. Its own calls must succeed;
 * its attacks must be refused for the right reason (`adversary-attacks.ts`).
 */
import type { ClaimAnswer, CompleteAnswer } from '../../src/contracts/answers.ts';
import type { JournalRecord } from '../../src/contracts/journal.ts';
import type { Arena, Identity, Outcome } from './adversary-arenas.ts';
import { CLAIM_WAIT_MS, planAttack, type Attack, type Attacker, type Truth } from './adversary-attacks.ts';

/** How an agent ends the job of one step (a retryable failure on a first attempt puts it in RETRY_WAIT). */
export type Finish = 'complete' | 'fail-retry' | 'fail-final';

/** One round of an agent's loop: attacks while it holds nothing, its claim, attacks while it holds a job, its end. */
export interface Step {
  idle: Attack[];
  holding: Attack[];
  heartbeat: boolean;
  finish: Finish;
}

/** Retries a job gets: a failure on its second attempt is final, so the race ends. */
export const MAX_RETRIES = 1;

/** The shared state of one race. */
export class Race {
  readonly truth: Truth;
  readonly violations: string[] = [];
  readonly outcomes = new Map<string, Map<string, number>>();
  attacks = 0;
  finished = 0;
  /** Jobs each agent's own complete or fail left final (the journal must credit them to its worker). */
  readonly finishedBy: number[];
  /** Set when an agent's own call was refused: the others stop at their next step. */
  stopped = false;

  constructor(
    readonly arena: Arena,
    readonly jobs: number,
    agents: number,
  ) {
    this.truth = {
      subs: Array.from({ length: agents }, (_, i) => `agent-${i}`),
      workers: [],
      owner: new Map(),
      holders: new Map(),
      claims: Array.from({ length: agents }, () => 0),
    };
    this.finishedBy = Array.from({ length: agents }, () => 0);
  }

  tally(kind: string, outcome: Outcome): void {
    const byCode = this.outcomes.get(kind) ?? new Map<string, number>();
    const code = outcome.ok ? 'ok' : outcome.code;
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    this.outcomes.set(kind, byCode);
  }
}

/** An agent's own call was refused (an attack took its job, its worker or its lease): the race stops. */
export class OwnCallRefused extends Error {}

/** One agent: its own calls must succeed, its attacks must not. */
export class Agent {
  private me!: Attacker;
  private afterSeq = 0;
  private readonly seen = { worker: new Set<string>(), job: new Set<string>(), session: new Set<string>() };
  /** Jobs the journal last showed RUNNING (the targets worth attacking). */
  private readonly seenRunning = new Set<string>();
  private readonly sub: string;

  constructor(
    private readonly index: number,
    private readonly race: Race,
    private readonly plan: Step[],
  ) {
    this.sub = race.truth.subs[index]!;
  }

  /** Registers its worker with its unbound token, then acts with the worker's own credential. */
  async start(): Promise<void> {
    const { arena, truth } = this.race;
    const unbound = await arena.token(this.sub, ['queue:work', 'resources:write', 'jobs:read']);
    const registered = await this.mustSucceed<{ id: string; credential: { token: string } }>(
      'register',
      unbound,
      'workers.register',
      { name: this.sub },
      `${this.sub}/register`,
    );
    const workerId = registered.id;
    truth.workers[this.index] = workerId;
    truth.owner.set(workerId, this.index);
    const credential = await arena.identity(registered.credential.token);
    this.me = {
      index: this.index,
      credential,
      unbound,
      workerId,
      holding: null,
      staleSecrets: [],
      lastFence: 0,
      seen: { worker: [], job: [], session: [] },
    };
    if (arena.supports('sessions.open')) {
      const session = await this.mustSucceed<{ id: string }>('open a session', credential, 'sessions.open', {
        workerId,
      });
      truth.owner.set(session.id, this.index);
    }
    if (arena.supports('workers.credential'))
      await this.mustSucceed(
        'mint a credential',
        unbound,
        'workers.credential',
        { workerId },
        `${this.sub}/credential`,
      );
  }

  /** The subjects the journal may name for this agent: its own, its first worker's, and any worker it registered. */
  identities(): string[] {
    const { owner } = this.race.truth;
    const workers = [...owner]
      .filter(([id, i]) => i === this.index && id.startsWith('wrk_') && id !== this.me.workerId)
      .map(([id]) => id);
    return [this.sub, this.me.workerId, ...workers];
  }

  async run(): Promise<void> {
    const { truth, jobs } = this.race;
    for (let n = 0; this.race.finished < jobs && !this.race.stopped; n++) {
      const step = this.plan[n % this.plan.length]!;
      if (step.idle.length > 0) await this.refresh();
      for (const attack of step.idle) await this.attack(attack);
      const claim = await this.mustSucceed<ClaimAnswer>(
        'claim',
        this.me.credential,
        'queue.claim',
        { workerId: this.me.workerId, waitMs: CLAIM_WAIT_MS },
        `${this.sub}/claim/${truth.claims[this.index]!++}`,
      );
      if (!claim.job || !claim.lease || !claim.workOrder) continue;
      const holding = {
        agent: this.index,
        jobId: claim.job.id,
        token: claim.lease.token,
        fence: claim.lease.fence,
      };
      this.me.holding = holding;
      this.me.lastFence = holding.fence;
      truth.holders.set(holding.jobId, holding);
      if (step.holding.length > 0) await this.refresh();
      for (const attack of step.holding) await this.attack(attack);
      if (step.heartbeat) {
        const beat = await this.mustSucceed<{ directive: string; leaseExpiresAt: number | null }>(
          'heartbeat',
          this.me.credential,
          'workers.heartbeat',
          { workerId: this.me.workerId, leaseToken: holding.token },
        );
        if (beat.directive !== 'continue' || beat.leaseExpiresAt === null)
          this.violation(`agent ${this.index}: its own heartbeat answered ${JSON.stringify(beat)}`);
      }
      await this.finish(step.finish, holding, claim.workOrder.retryCount);
    }
  }

  private async finish(
    how: Finish,
    holding: NonNullable<Attacker['holding']>,
    retryCount: number,
  ): Promise<void> {
    const { jobId, token: leaseToken } = holding;
    const expected =
      how === 'complete'
        ? 'COMPLETED'
        : how === 'fail-retry' && retryCount < MAX_RETRIES
          ? 'RETRY_WAIT'
          : 'FAILED';
    // From here on the job may leave this agent's hands: attacks on it may meet its own rules, not ownership.
    this.race.truth.holders.delete(jobId);
    const answer =
      how === 'complete'
        ? await this.mustSucceed<CompleteAnswer>('complete', this.me.credential, 'queue.complete', {
            jobId,
            leaseToken,
            result: { by: this.sub },
          })
        : await this.mustSucceed<CompleteAnswer>('fail', this.me.credential, 'queue.fail', {
            jobId,
            leaseToken,
            reason: `${this.sub} gave up`,
            retryable: how === 'fail-retry',
          });
    this.me.holding = null;
    this.me.staleSecrets.push(leaseToken);
    if (answer.job.status !== expected)
      this.violation(
        `agent ${this.index}: ${how} of its job ${jobId} left it ${answer.job.status}, not ${expected}`,
      );
    if (answer.job.status === 'COMPLETED' || answer.job.status === 'FAILED') {
      this.race.finished++;
      this.race.finishedBy[this.index]!++;
    }
  }

  /** Reads the journal records it has not seen yet: the ids it attacks. */
  private async refresh(): Promise<void> {
    for (;;) {
      const page = await this.mustSucceed<{ events: JournalRecord[]; nextCursor: number | null }>(
        'read the journal',
        this.me.unbound,
        'events.list',
        { afterSeq: this.afterSeq, limit: 500 },
      );
      for (const { kind, id, to } of page.events) {
        if (kind === 'workstream' || kind === 'phase') continue;
        if (!this.seen[kind].has(id)) {
          this.seen[kind].add(id);
          this.me.seen[kind].push(id);
        }
        if (kind === 'job' && to === 'RUNNING') this.seenRunning.add(id);
        else if (kind === 'job') this.seenRunning.delete(id);
      }
      if (page.nextCursor === null) return;
      this.afterSeq = page.nextCursor;
    }
  }

  private async attack(attack: Attack): Promise<void> {
    const { arena, truth } = this.race;
    // Half the job attacks aim at jobs the journal shows running (held, most likely, by another agent).
    const running = [...this.seenRunning];
    const view =
      attack.kind.startsWith('job.') && attack.pick % 2 === 0 && running.length > 0
        ? { ...this.me, seen: { ...this.me.seen, job: running } }
        : this.me;
    const call = planAttack(attack, view, truth);
    if (!call || !arena.supports(call.command)) return;
    this.race.attacks++;
    const outcome = await arena.call(call.as, call.command, call.input, call.idempotencyKey);
    this.race.tally(attack.kind, outcome);
    const wrong = call.judge(outcome, () => truth);
    if (wrong !== null)
      this.violation(
        `agent ${this.index} ${attack.kind} via ${attack.via}: ${call.command} ${JSON.stringify(call.input)}` +
          `${call.idempotencyKey ? ` key ${call.idempotencyKey}` : ''}: ${wrong}`,
      );
  }

  private async mustSucceed<T>(
    what: string,
    as: Identity,
    command: string,
    input: Record<string, unknown>,
    idempotencyKey?: string,
  ): Promise<T> {
    const outcome = await this.race.arena.call(as, command, input, idempotencyKey);
    if (outcome.ok) return outcome.value as T;
    this.race.stopped = true;
    throw new OwnCallRefused(`agent ${this.index} could not ${what}: ${command} answered ${outcome.code}`);
  }

  private violation(message: string): void {
    this.race.violations.push(message);
  }
}
