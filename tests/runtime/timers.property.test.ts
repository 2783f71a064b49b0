/**
 * Timer property test: 100 seeded cases on a simulated clock. Each case builds a small random world (workers
 * heartbeating, pausing and resuming; sessions going idle and active), moves the clock at random (sometimes
 * exactly onto a deadline or a millisecond short of it) and restarts the runtime at random with random
 * downtime. A reference model of DESIGN §3 says when every worker must go OFFLINE and every session must end:
 *
 * - a timer fires when the clock first reaches its due time while a runtime holds the data dir, with `at` =
 *   that clock time;
 * - at restart, a heartbeat deadline that fell due during the downtime is re-armed to restart + timeout;
 * - every other overdue deadline (session idle and age limits) fires at once, with `at` = the restart time;
 * - each timer fires once.
 *
 * The observed journal must match the model record for record, per entity.
 *
 * Reproduce a run with `TIMERS_SEED=<base seed> npx vitest run tests/runtime/timers.property.test.ts`, one case
 * with `-t 'seed <seed>\)'`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createOverseer, type Overseer, type OverseerOptions } from '../../src/index.ts';
import { simulatedClock, tempDataDir, type TempDataDir, type TestClock } from '../../src/testing.ts';
import type { JournalRecord } from '../../src/contracts/journal.ts';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';

const CASES = 100;
const STEPS = 40;
const WS = 'prop';
const BASE_SEED = process.env.TIMERS_SEED
  ? Number(process.env.TIMERS_SEED)
  : Math.floor(Math.random() * 2 ** 31);
console.log(`timers.property: base seed ${BASE_SEED} (rerun with TIMERS_SEED=${BASE_SEED})`);

// ── A seeded PRNG ──────────────────────────────────────────────────────────

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32: a float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** One of the keys, chosen in proportion to its weight (weights ≤ 0 never). */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = (Object.entries(weights) as [K, number][]).filter(([, w]) => w > 0);
    let r = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, w] of entries) {
      r -= w;
      if (r < 0) return key;
    }
    return entries[entries.length - 1]![0];
  }
}

// ── The reference model ────────────────────────────────────────────────────

/** A journal record as the model predicts it. `events` lists the acceptable event names (a tie: either). */
interface Expected {
  events: string[];
  from: string | null;
  to: string;
  at: number;
  principal: 'library' | 'system';
}

interface ModelWorker {
  id: string;
  state: 'IDLE' | 'PAUSED' | 'OFFLINE';
  due: number | null;
  pendingResume: boolean;
  records: Expected[];
}

interface ModelSession {
  id: string;
  state: 'ACTIVE' | 'IDLE' | 'TERMINATED';
  idleDue: number | null;
  ageDue: number | null;
  /** Acceptable end reasons (two on a tie of both limits). */
  endedReasons: string[] | null;
  records: Expected[];
}

interface Timeouts {
  heartbeat: number;
  idle: number;
  age: number;
}

class Model {
  readonly workers: ModelWorker[] = [];
  readonly sessions: ModelSession[] = [];
  private readonly t: Timeouts;

  constructor(timeouts: Timeouts) {
    this.t = timeouts;
  }

  private static rec(
    event: string,
    from: string | null,
    to: string,
    at: number,
    principal: Expected['principal'],
  ) {
    return { events: [event], from, to, at, principal };
  }

  register(id: string, now: number): void {
    this.workers.push({
      id,
      state: 'IDLE',
      due: now + this.t.heartbeat,
      pendingResume: false,
      records: [Model.rec('workers.register', null, 'IDLE', now, 'library')],
    });
  }

  /** Returns the directive the heartbeat must be answered with. */
  heartbeat(w: ModelWorker, now: number): string {
    const pending = w.pendingResume;
    w.pendingResume = false;
    if (w.state === 'PAUSED') return 'pause';
    if (w.state === 'OFFLINE') w.records.push(Model.rec('HEARTBEAT', 'OFFLINE', 'IDLE', now, 'library'));
    w.state = 'IDLE';
    w.due = now + this.t.heartbeat;
    return pending ? 'resume' : 'continue';
  }

  pause(w: ModelWorker, now: number): void {
    w.records.push(Model.rec('PAUSE', w.state, 'PAUSED', now, 'library'));
    w.state = 'PAUSED';
    w.due = null;
  }

  resume(w: ModelWorker, now: number): void {
    w.records.push(Model.rec('RESUME', 'PAUSED', 'IDLE', now, 'library'));
    w.state = 'IDLE';
    w.due = now + this.t.heartbeat;
    w.pendingResume = true;
  }

  open(id: string, now: number): void {
    this.sessions.push({
      id,
      state: 'ACTIVE',
      idleDue: null,
      ageDue: now + this.t.age,
      endedReasons: null,
      records: [Model.rec('sessions.open', null, 'ACTIVE', now, 'library')],
    });
  }

  idle(s: ModelSession, now: number): void {
    s.records.push(Model.rec('IDLE', 'ACTIVE', 'IDLE', now, 'library'));
    s.state = 'IDLE';
    s.idleDue = now + this.t.idle;
  }

  touch(s: ModelSession, now: number): void {
    if (s.state === 'IDLE') s.records.push(Model.rec('ACTIVITY', 'IDLE', 'ACTIVE', now, 'library'));
    s.state = 'ACTIVE';
    s.idleDue = null;
  }

  close(s: ModelSession, now: number): void {
    s.records.push(Model.rec('TERMINATE', s.state, 'TERMINATED', now, 'library'));
    s.state = 'TERMINATED';
    s.idleDue = s.ageDue = null;
    s.endedReasons = ['closed'];
  }

  /** The earliest deadline still set, if any. */
  nextDue(): number | null {
    let next: number | null = null;
    const consider = (due: number | null) => {
      if (due !== null && (next === null || due < next)) next = due;
    };
    for (const w of this.workers) consider(w.due);
    for (const s of this.sessions) {
      consider(s.idleDue);
      consider(s.ageDue);
    }
    return next;
  }

  /** The clock reached `now` with a runtime running: everything due by then fires, at `now`. */
  fireDue(now: number): void {
    for (const w of this.workers) {
      if (w.due === null || w.due > now) continue;
      w.records.push(Model.rec('HEARTBEAT_TIMEOUT', w.state, 'OFFLINE', now, 'system'));
      w.state = 'OFFLINE';
      w.due = null;
    }
    for (const s of this.sessions) {
      const idle = s.idleDue !== null && s.idleDue <= now ? s.idleDue : Infinity;
      const age = s.ageDue !== null && s.ageDue <= now ? s.ageDue : Infinity;
      if (idle === Infinity && age === Infinity) continue;
      // The earlier limit fires and cancels the other; on a tie, either may.
      const events: string[] = [];
      const reasons: string[] = [];
      if (idle <= age) {
        events.push('IDLE_TIMEOUT');
        reasons.push('idle_timeout');
      }
      if (age <= idle) {
        events.push('MAX_AGE_REACHED');
        reasons.push('max_age');
      }
      s.records.push({ events, from: s.state, to: 'TERMINATED', at: now, principal: 'system' });
      s.state = 'TERMINATED';
      s.idleDue = s.ageDue = null;
      s.endedReasons = reasons;
    }
  }

  /** A runtime opens the data dir at `now` after downtime. */
  restart(now: number): void {
    for (const w of this.workers) if (w.due !== null && w.due <= now) w.due = now + this.t.heartbeat;
    this.fireDue(now);
  }
}

// ── The system under test ──────────────────────────────────────────────────

class Harness {
  readonly clock: TestClock = simulatedClock();
  readonly dir: TempDataDir = tempDataDir('overseer-timers-prop-');
  readonly options: OverseerOptions;
  ov!: Overseer;
  ws!: WorkspaceClient;

  constructor(options: Partial<OverseerOptions>) {
    this.options = { dataDir: this.dir.path, clock: this.clock, logLevel: 'silent', ...options };
  }

  async start(): Promise<void> {
    this.ov = await createOverseer(this.options);
    this.ws = this.ov.workspace(WS);
  }

  async settle(): Promise<void> {
    const { pipeline } = this.ov.runtime.host;
    for (let i = 0; i < 3; i++) {
      await pipeline.idle();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await pipeline.idle();
  }

  async advanceTo(t: number): Promise<void> {
    this.clock.set(t);
    await this.settle();
  }

  async restartAt(t: number): Promise<void> {
    await this.ov.close();
    this.clock.set(t);
    await this.start();
    // A simulated clock runs even a zero-delay timer only when it is told to move.
    this.clock.increment(0);
    await this.settle();
  }

  due(kind: 'worker' | 'session', id: string, name: string): number | null {
    return this.ov.runtime.host.timers.get(WS, kind, id, name)?.due ?? null;
  }

  async journal(): Promise<JournalRecord[]> {
    const out: JournalRecord[] = [];
    let afterSeq = 0;
    for (;;) {
      const page = await this.ws.events.list({ afterSeq, limit: 500 });
      out.push(...page.events);
      if (page.nextCursor === null) return out;
      afterSeq = page.nextCursor;
    }
  }

  async dispose(): Promise<void> {
    await this.ov.close();
    this.dir.remove();
  }
}

// ── One case ───────────────────────────────────────────────────────────────

async function runCase(seed: number, harnessRef: { current?: Harness }): Promise<void> {
  const rng = new Rng(seed);
  const timeouts: Timeouts = {
    heartbeat: rng.pick([5, 10, 20, 30]) * 1000,
    idle: rng.int(5, 40) * 1000,
    age: rng.int(10, 90) * 1000,
  };
  const longest = Math.max(timeouts.heartbeat, timeouts.idle, timeouts.age);
  const h = new Harness({
    heartbeatTimeoutSeconds: timeouts.heartbeat / 1000,
    session: { idleTimeoutSeconds: timeouts.idle / 1000, maxAgeSeconds: timeouts.age / 1000 },
    // Short passivation makes fired timers restore their actors from LMDB.
    passivateAfterMs: rng.pick([1_000, 60_000]),
    durability: rng.pick(['flush', 'commit'] as const),
  });
  harnessRef.current = h;
  const t0 = h.clock.now();
  const rel = (t: number) => `+${t - t0}ms`;
  const trace: string[] = [`seed ${seed}: timeouts ${JSON.stringify(timeouts)}`];
  const model = new Model(timeouts);
  let restarts = 0;

  try {
    await h.start();
    const register = async () => {
      const w = await h.ws.workers.register({ name: `w${model.workers.length}` });
      model.register(w.id, h.clock.now());
      trace.push(`${rel(h.clock.now())} register ${w.id}`);
    };
    const open = async () => {
      const worker = rng.pick(model.workers);
      const s = await h.ws.sessions.open({ workerId: worker.id });
      model.open(s.id, h.clock.now());
      trace.push(`${rel(h.clock.now())} open ${s.id}`);
    };
    for (let i = rng.int(1, 3); i > 0; i--) await register();
    for (let i = rng.int(0, 2); i > 0; i--) await open();

    /** A time to move to: onto the next deadline, just short of it, or somewhere at random. */
    const target = (): number => {
      const now = h.clock.now();
      const next = model.nextDue();
      const how = rng.weighted({
        exact: next === null ? 0 : 3,
        justBefore: next === null || next - 1 <= now ? 0 : 2,
        small: 2,
        large: 2,
      });
      if (how === 'exact') return next!;
      if (how === 'justBefore') return next! - 1;
      if (how === 'small') return now + rng.int(1, 2_000);
      return now + rng.int(1, 2 * longest);
    };

    /** Downtime: none, shorter than the next deadline, exactly onto it, or long. */
    const downtime = (): number => {
      const now = h.clock.now();
      const next = model.nextDue();
      const how = rng.weighted({
        none: 1,
        short: next === null || next - now <= 1 ? 0 : 3,
        exact: next === null ? 0 : 1,
        long: 3,
      });
      if (how === 'none') return 0;
      if (how === 'short') return rng.int(1, next! - now - 1);
      if (how === 'exact') return next! - now;
      return rng.int(1, 3 * longest);
    };

    for (let step = 0; step < STEPS; step++) {
      const now = h.clock.now();
      const idleWorkers = model.workers.filter((w) => w.state === 'IDLE');
      const pausedWorkers = model.workers.filter((w) => w.state === 'PAUSED');
      const active = model.sessions.filter((s) => s.state === 'ACTIVE');
      const live = model.sessions.filter((s) => s.state !== 'TERMINATED');
      const idleSessions = model.sessions.filter((s) => s.state === 'IDLE');
      const action = rng.weighted({
        advance: 8,
        heartbeat: 4,
        pause: idleWorkers.length > 0 ? 1 : 0,
        resume: pausedWorkers.length > 0 ? 1.5 : 0,
        register: model.workers.length < 4 ? 0.5 : 0,
        open: model.sessions.length < 5 ? 1 : 0,
        idle: active.length > 0 ? 2 : 0,
        touch: idleSessions.length > 0 ? 1.5 : live.length > 0 ? 0.3 : 0,
        close: live.length > 0 ? 0.3 : 0,
        restart: restarts < 4 ? 1.2 : 0,
      });
      switch (action) {
        case 'advance': {
          const t = target();
          trace.push(
            `${rel(t)} advance (next due ${model.nextDue() === null ? '-' : rel(model.nextDue()!)})`,
          );
          await h.advanceTo(t);
          model.fireDue(t);
          break;
        }
        case 'heartbeat': {
          const w = rng.pick(model.workers);
          trace.push(`${rel(now)} heartbeat ${w.id} (${w.state})`);
          const answer = await h.ws.workers.heartbeat(w.id);
          expect(answer.directive, `directive for ${w.id}`).toBe(model.heartbeat(w, now));
          break;
        }
        case 'pause': {
          const w = rng.pick(idleWorkers);
          trace.push(`${rel(now)} pause ${w.id}`);
          await h.ws.workers.pause(w.id);
          model.pause(w, now);
          break;
        }
        case 'resume': {
          const w = rng.pick(pausedWorkers);
          trace.push(`${rel(now)} resume ${w.id}`);
          await h.ws.workers.resume(w.id);
          model.resume(w, now);
          break;
        }
        case 'register':
          await register();
          break;
        case 'open':
          await open();
          break;
        case 'idle': {
          const s = rng.pick(active);
          trace.push(`${rel(now)} idle ${s.id}`);
          await h.ws.sessions.idle(s.id);
          model.idle(s, now);
          break;
        }
        case 'touch': {
          const s = rng.pick(idleSessions.length > 0 && rng.chance(0.8) ? idleSessions : live);
          trace.push(`${rel(now)} touch ${s.id} (${s.state})`);
          await h.ws.sessions.touch(s.id);
          model.touch(s, now);
          break;
        }
        case 'close': {
          const s = rng.pick(live);
          trace.push(`${rel(now)} close ${s.id}`);
          await h.ws.sessions.close(s.id);
          model.close(s, now);
          break;
        }
        case 'restart': {
          const t = now + downtime();
          trace.push(
            `${rel(t)} restart after ${t - now}ms down (next due ${model.nextDue() === null ? '-' : rel(model.nextDue()!)})`,
          );
          restarts++;
          await h.restartAt(t);
          model.restart(t);
          await checkState(h, model, `after the restart at ${rel(t)}`);
          break;
        }
      }
    }
    // Let every remaining deadline fire, one after the other, then check everything.
    for (let next = model.nextDue(); next !== null; next = model.nextDue()) {
      trace.push(`${rel(next)} advance to the next deadline`);
      await h.advanceTo(next);
      model.fireDue(next);
    }
    await checkState(h, model, 'at the end');
    await checkJournal(h, model, t0);
  } catch (err) {
    if (err instanceof Error) err.message += `\n${trace.join('\n')}`;
    throw err;
  }
}

/** Statuses, end reasons and durable timer due times match the model. */
async function checkState(h: Harness, model: Model, when: string): Promise<void> {
  for (const w of model.workers) {
    expect((await h.ws.workers.get(w.id)).status, `${w.id} ${when}`).toBe(w.state);
    expect(h.due('worker', w.id, 'heartbeat'), `heartbeat deadline of ${w.id} ${when}`).toBe(w.due);
  }
  for (const s of model.sessions) {
    const session = await h.ws.sessions.get(s.id);
    expect(session.status, `${s.id} ${when}`).toBe(s.state);
    if (s.endedReasons)
      expect(s.endedReasons, `end reason of ${s.id} ${when}`).toContain(session.endedReason);
    else expect(session.endedReason, `end reason of ${s.id} ${when}`).toBeNull();
    expect(h.due('session', s.id, 'session-idle'), `idle deadline of ${s.id} ${when}`).toBe(s.idleDue);
    expect(h.due('session', s.id, 'session-age'), `age deadline of ${s.id} ${when}`).toBe(s.ageDue);
  }
}

/** The journal holds exactly the model's records, per entity, and no timer fired twice. */
async function checkJournal(h: Harness, model: Model, t0: number): Promise<void> {
  const journal = await h.journal();
  for (let i = 1; i < journal.length; i++) {
    expect(
      journal[i]!.at,
      `record ${journal[i]!.seq} is not older than the one before`,
    ).toBeGreaterThanOrEqual(journal[i - 1]!.at);
  }
  const entities = [...model.workers, ...model.sessions];
  expect(new Set(journal.map((r) => r.id))).toEqual(new Set(entities.map((e) => e.id)));
  const show = (r: { from: string | null; to: string; at: number; principal: string }, event: string) =>
    `${event} ${r.from}→${r.to} at +${r.at - t0} by ${r.principal}`;
  for (const entity of entities) {
    const actual = journal.filter((r) => r.id === entity.id);
    const expected = entity.records;
    const actualLines = actual.map((r) => show(r, r.event));
    // On a tie of both session limits, take whichever event the runtime journaled if the model allows it.
    const expectedLines = expected.map((e, i) =>
      show(e, e.events.includes(actual[i]?.event ?? '') ? actual[i]!.event : e.events.join('|')),
    );
    expect(actualLines, `journal of ${entity.id}`).toEqual(expectedLines);

    // Each timer fires once: one end per session, and a worker goes OFFLINE again only after coming back.
    const lapses = actual.filter((r) => r.event === 'HEARTBEAT_TIMEOUT');
    expect(
      lapses.every((r) => r.from !== 'OFFLINE'),
      `${entity.id} lapsed while OFFLINE`,
    ).toBe(true);
    expect(
      actual.filter((r) => r.to === 'TERMINATED').length,
      `${entity.id} ended twice`,
    ).toBeLessThanOrEqual(1);
  }
}

// ── The cases ──────────────────────────────────────────────────────────────

describe(`timers on a simulated clock (base seed ${BASE_SEED})`, () => {
  const current: { current?: Harness } = {};
  afterEach(async () => {
    const h = current.current;
    delete current.current;
    if (!h) return;
    try {
      await h.dispose();
    } catch {
      h.dir.remove();
    }
  });

  for (let i = 0; i < CASES; i++) {
    const seed = BASE_SEED + i;
    it(`case ${i} (seed ${seed})`, () => runCase(seed, current));
  }
});
