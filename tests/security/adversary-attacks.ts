/**
 * The attacks of the adversarial race, each a call an agent must never get through: on another agent's worker,
 * session or job (ids from the journal), on its own job with a lease secret it guesses, commands outside its role,
 * and replays of another agent's keyed calls under the keys it can guess. Each attack knows which refusals are
 * right, from what the harness knows for sure about who held the target before and after the call.
 */
import fc from 'fast-check';
import type { Identity, Outcome } from './adversary-arenas.ts';

/** How an agent guesses a lease secret. */
export type Guess =
  | { kind: 'random'; bytes: Uint8Array }
  /** One of its own earlier secrets (stale). */
  | { kind: 'stale'; pick: number }
  /** A fence near its own latest one, as a string: lease tokens used to be fences. */
  | { kind: 'fence'; k: number }
  /** Its own live secret, presented for another job. */
  | { kind: 'own-current' };

export const ATTACK_KINDS = [
  'worker.heartbeat',
  'worker.queueHeartbeat',
  'worker.deregister',
  'worker.reportCrash',
  'worker.restart',
  'worker.credential',
  'worker.claim',
  'worker.openSession',
  'worker.pause',
  'worker.terminate',
  'session.touch',
  'session.idle',
  'session.close',
  'job.complete',
  'job.fail',
  'job.allocate',
  'job.release',
  'job.cancel',
  'own.complete',
  'own.fail',
  'own.heartbeat',
  'self.register',
  'replay.register',
  'replay.credential',
  'replay.claim',
] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

/** One attack of the schedule: what, with which of the agent's two tokens, on which target, with which guess. */
export interface Attack {
  kind: AttackKind;
  via: 'credential' | 'unbound';
  /** Picks the target among those the agent knows (modulo their number). */
  pick: number;
  guess: Guess;
}

export const guessArb: fc.Arbitrary<Guess> = fc.oneof(
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('stale' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('fence' as const), k: fc.integer({ min: -16, max: 16 }) }),
  fc.record({ kind: fc.constant('own-current' as const) }),
);

export const attackArb: fc.Arbitrary<Attack> = fc.record({
  kind: fc.constantFrom(...ATTACK_KINDS),
  via: fc.constantFrom('credential' as const, 'unbound' as const),
  pick: fc.nat(),
  guess: guessArb,
});

/** A job an agent holds: its id and lease, as its claim answered them. */
export interface Holding {
  agent: number;
  jobId: string;
  token: string;
  fence: number;
}

/** What the attacking agent knows: its own tokens, worker, leases, and the ids the journal showed it. */
export interface Attacker {
  index: number;
  credential: Identity;
  unbound: Identity;
  workerId: string;
  holding: Holding | null;
  staleSecrets: string[];
  lastFence: number;
  /** Ids seen in `events.list`, by kind. */
  seen: { worker: string[]; job: string[]; session: string[] };
}

/** What the harness knows for sure (never shown to an attacker's calls). */
export interface Truth {
  /** The agents' subjects, by index. */
  subs: string[];
  /** Each agent's first worker (registered with a key its subject makes guessable). */
  workers: string[];
  /** The owner (agent index) of every worker and session of the race. */
  owner: Map<string, number>;
  /** The live holding of each held job: replaced on every claim, deleted before its holder completes or fails. */
  holders: Map<string, Holding>;
  /** How many claims each agent has sent (the claim keys `${sub}/claim/${n}` are guessable). */
  claims: number[];
}

/** One call an attack makes, and the judge of its outcome. */
export interface PlannedCall {
  command: string;
  as: Identity;
  input: Record<string, unknown>;
  idempotencyKey?: string;
  /** A violation, or null when the outcome is a right refusal. `after` reads the truth after the answer. */
  judge(outcome: Outcome, after: () => Truth): string | null;
}

export const CLAIM_WAIT_MS = 50;
const RESOURCE = [{ name: 'repo:adversary' }];

const secretOf = (me: Attacker, guess: Guess, forOwnJob: boolean): string => {
  switch (guess.kind) {
    case 'random':
      return Buffer.from(guess.bytes).toString('base64url');
    case 'stale':
      return me.staleSecrets.length > 0
        ? me.staleSecrets[guess.pick % me.staleSecrets.length]!
        : Buffer.alloc(16, guess.pick).toString('base64url');
    case 'fence':
      return String(Math.max(1, me.lastFence + guess.k));
    case 'own-current':
      // On its own job its live secret would be no attack: a stale one stands in.
      return me.holding && !forOwnJob ? me.holding.token : String(me.lastFence);
  }
};

/** An outcome that must be one of `codes`. */
function refusedWith(outcome: Outcome, codes: readonly string[]): string | null {
  if (outcome.ok) return `succeeded: ${JSON.stringify(outcome.value).slice(0, 200)}`;
  return codes.includes(outcome.code) ? null : `refused with ${outcome.code}, not ${codes.join(' or ')}`;
}

const pickOf = <T>(items: readonly T[], pick: number): T | undefined =>
  items.length === 0 ? undefined : items[pick % items.length];

/** The call an attack makes now, or null when the agent knows no target for it yet. */
export function planAttack(attack: Attack, me: Attacker, truth: Truth): PlannedCall | null {
  const as = attack.via === 'credential' ? me.credential : me.unbound;
  const [family] = attack.kind.split('.') as [string];
  const otherWorker = pickOf(
    me.seen.worker.filter((id) => truth.owner.has(id) && truth.owner.get(id) !== me.index),
    attack.pick,
  );
  const otherSession = pickOf(
    me.seen.session.filter((id) => truth.owner.has(id) && truth.owner.get(id) !== me.index),
    attack.pick,
  );
  const otherJob = pickOf(
    me.seen.job.filter((id) => id !== me.holding?.jobId),
    attack.pick,
  );
  const victim = pickOf(
    truth.subs.map((_, i) => i).filter((i) => i !== me.index),
    attack.pick,
  );
  const exactly =
    (...codes: string[]) =>
    (outcome: Outcome) =>
      refusedWith(outcome, codes);

  if (family === 'worker') {
    if (otherWorker === undefined) return null;
    const workerId = otherWorker;
    const leaseToken = secretOf(me, attack.guess, false);
    const inputs: Record<string, [string, Record<string, unknown>]> = {
      'worker.heartbeat': ['workers.heartbeat', { workerId, leaseToken }],
      'worker.queueHeartbeat': ['queue.heartbeat', { workerId, leaseToken }],
      'worker.deregister': ['workers.deregister', { workerId }],
      'worker.reportCrash': ['workers.reportCrash', { workerId, reason: 'it crashed, trust me' }],
      'worker.restart': ['workers.restart', { workerId }],
      'worker.credential': ['workers.credential', { workerId }],
      'worker.claim': ['queue.claim', { workerId, waitMs: 0 }],
      'worker.openSession': ['sessions.open', { workerId }],
      'worker.pause': ['workers.pause', { workerId }],
      'worker.terminate': ['workers.terminate', { workerId, reason: 'taking over' }],
    };
    const [command, input] = inputs[attack.kind]!;
    const supervisorOnly = attack.kind === 'worker.pause' || attack.kind === 'worker.terminate';
    return {
      command,
      as,
      input,
      judge: supervisorOnly ? exactly('INSUFFICIENT_SCOPE') : exactly('NOT_YOUR_WORKER'),
    };
  }
  if (family === 'session') {
    if (otherSession === undefined) return null;
    const command = `sessions.${attack.kind.split('.')[1]!}`;
    const input = {
      sessionId: otherSession,
      ...(command === 'sessions.close' ? { reason: 'mine now' } : {}),
    };
    return { command, as, input, judge: exactly('NOT_YOUR_WORKER') };
  }
  if (family === 'job') {
    if (otherJob === undefined) return null;
    const jobId = otherJob;
    const before = truth.holders.get(jobId);
    const leaseToken = secretOf(me, attack.guess, false);
    const inputs: Record<string, [string, Record<string, unknown>]> = {
      'job.complete': ['queue.complete', { jobId, leaseToken, result: { by: 'intruder' } }],
      'job.fail': ['queue.fail', { jobId, leaseToken, reason: 'sabotage', retryable: attack.pick % 2 === 0 }],
      'job.allocate': ['resources.allocate', { jobId, resources: RESOURCE }],
      'job.release': ['resources.release', { jobId, resources: RESOURCE }],
      'job.cancel': ['jobs.cancel', { jobId, reason: 'sabotage' }],
    };
    const [command, input] = inputs[attack.kind]!;
    return {
      command,
      as,
      input,
      judge(outcome, after) {
        if (attack.kind === 'job.cancel') return refusedWith(outcome, ['INSUFFICIENT_SCOPE']);
        // Held by another agent from before the call to after its answer: only the ownership check may answer.
        const heldThroughout = before !== undefined && after().holders.get(jobId) === before;
        if (heldThroughout) return refusedWith(outcome, ['NOT_YOUR_WORKER']);
        // Held by nobody at some point of the call: the job's own rules answer (no lease, not running, nothing held).
        if (attack.kind === 'job.release' && outcome.ok)
          return (outcome.value as { allocation: unknown }).allocation === null
            ? null
            : `released from an allocation: ${JSON.stringify(outcome.value)}`;
        const unheld = attack.kind === 'job.allocate' ? 'INVALID_STATE_TRANSITION' : 'LEASE_LOST';
        return refusedWith(outcome, ['NOT_YOUR_WORKER', unheld]);
      },
    };
  }
  if (family === 'own') {
    const held = me.holding;
    if (!held) return null;
    const leaseToken = secretOf(me, attack.guess, true);
    const inputs: Record<string, [string, Record<string, unknown>]> = {
      'own.complete': ['queue.complete', { jobId: held.jobId, leaseToken }],
      'own.fail': ['queue.fail', { jobId: held.jobId, leaseToken, reason: 'guessing', retryable: false }],
      'own.heartbeat': [
        attack.pick % 2 === 0 ? 'workers.heartbeat' : 'queue.heartbeat',
        { workerId: me.workerId, leaseToken },
      ],
    };
    const [command, input] = inputs[attack.kind]!;
    return { command, as, input, judge: exactly('LEASE_LOST') };
  }
  if (attack.kind === 'self.register')
    return {
      command: 'workers.register',
      as: me.credential,
      input: { name: `${truth.subs[me.index]!}-second` },
      judge: exactly('INSUFFICIENT_SCOPE'),
    };
  if (victim === undefined) return null;
  const sub = truth.subs[victim]!;
  if (attack.kind === 'replay.register')
    return {
      command: 'workers.register',
      as,
      input: { name: sub },
      idempotencyKey: `${sub}/register`,
      judge(outcome) {
        if (attack.via === 'credential') return refusedWith(outcome, ['INSUFFICIENT_SCOPE']);
        if (!outcome.ok) return refusedWith(outcome, ['NOT_YOUR_WORKER', 'IDEMPOTENCY_KEY_REUSED']);
        // Its own registration under that key is no theft; another agent's worker (and a credential for it) is.
        const id = (outcome.value as { id: string }).id;
        const owner = truth.owner.get(id);
        if (owner !== undefined && owner !== me.index)
          return `replayed ${sub}'s registration: got its worker ${id} with a credential`;
        truth.owner.set(id, me.index);
        return null;
      },
    };
  if (attack.kind === 'replay.credential')
    return {
      command: 'workers.credential',
      as,
      input: { workerId: truth.workers[victim]! },
      idempotencyKey: `${sub}/credential`,
      judge: exactly('NOT_YOUR_WORKER'),
    };
  const n = attack.pick % (truth.claims[victim]! + 1);
  return {
    command: 'queue.claim',
    as,
    input: { workerId: truth.workers[victim]!, waitMs: CLAIM_WAIT_MS },
    idempotencyKey: `${sub}/claim/${n}`,
    judge: exactly('NOT_YOUR_WORKER'),
  };
}
