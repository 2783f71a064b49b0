/**
 * Durable timers (DESIGN §3) seen through the library API on a simulated clock: the worker heartbeat deadline,
 * the session idle and age limits, and what a restart does to each.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOverseer, type Overseer, type OverseerOptions } from '../../src/index.ts';
import { simulatedClock, tempDataDir, type TempDataDir, type TestClock } from '../../src/testing.ts';
import type { JournalRecord } from '../../src/contracts/journal.ts';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import { MAX_TIMER_DELAY_MS } from '../../src/core/clock.ts';
import { MAX_WAIT_MS } from '../../src/contracts/queue.ts';
import { watchCommits } from '../support/open.ts';

const H = 10_000; // heartbeat timeout
const I = 20_000; // session idle limit
const A = 60_000; // session age limit
const WS = 'acme';

/** One data dir, one simulated clock, and the runtime currently holding the dir. */
class World {
  readonly clock: TestClock;
  readonly dir: TempDataDir;
  readonly options: OverseerOptions;
  readonly t0: number;
  ov!: Overseer;
  ws!: WorkspaceClient;

  private constructor(options: Partial<OverseerOptions>, clock: TestClock) {
    this.clock = clock;
    this.dir = tempDataDir('overseer-timers-');
    this.t0 = clock.now();
    this.options = {
      dataDir: this.dir.path,
      clock,
      logLevel: 'silent',
      heartbeatTimeoutSeconds: H / 1000,
      session: { idleTimeoutSeconds: I / 1000, maxAgeSeconds: A / 1000 },
      ...options,
    };
  }

  static async open(options: Partial<OverseerOptions> = {}, clock = simulatedClock()): Promise<World> {
    const w = new World(options, clock);
    await w.start();
    return w;
  }

  private async start(): Promise<void> {
    this.ov = await createOverseer(this.options);
    this.ws = this.ov.workspace(WS);
  }

  /** Ms since the world began. */
  get now(): number {
    return this.clock.now() - this.t0;
  }

  /** Waits until every commit caused so far (fired timers included) is durable. */
  async settle(): Promise<void> {
    const { pipeline } = this.ov.runtime.host;
    for (let i = 0; i < 3; i++) {
      await pipeline.idle();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await pipeline.idle();
  }

  async advance(ms: number): Promise<void> {
    this.clock.increment(ms);
    await this.settle();
  }

  /** Moves the clock to `t0 + at`. */
  async advanceTo(at: number): Promise<void> {
    this.clock.set(this.t0 + at);
    await this.settle();
  }

  /**
   * Closes the runtime, lets `downtimeMs` pass with no runtime holding the dir, opens it again and gives the
   * clock one tick (a simulated clock fires nothing, not even a zero-delay timer, until it is told to).
   */
  async restart(downtimeMs: number): Promise<void> {
    await this.ov.close();
    this.clock.increment(downtimeMs);
    await this.start();
    this.clock.increment(0);
    await this.settle();
  }

  /** The whole journal of the workspace, in seq order. */
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

  /** The records the runtime wrote on its own (fired timers), with `at` relative to t0. */
  async fired(): Promise<{ id: string; event: string; from: string | null; to: string; at: number }[]> {
    return (await this.journal())
      .filter((r) => r.principal === 'system')
      .map((r) => ({ id: r.id, event: r.event, from: r.from, to: r.to, at: r.at - this.t0 }));
  }

  /** A durable timer's due time relative to t0, or undefined when it is not set. */
  due(kind: 'worker' | 'session', id: string, name: string): number | undefined {
    const entry = this.ov.runtime.host.timers.get(WS, kind, id, name);
    return entry === undefined ? undefined : entry.due - this.t0;
  }

  async status(kind: 'worker' | 'session', id: string): Promise<string> {
    return kind === 'worker'
      ? (await this.ws.workers.get(id)).status
      : (await this.ws.sessions.get(id)).status;
  }

  async dispose(): Promise<void> {
    await this.ov.close();
    this.dir.remove();
  }
}

/** Counts the heartbeat-timer writes the runtime commits from now on. */
function spyTimerWrites(w: World): { heartbeat: () => number } {
  let heartbeat = 0;
  watchCommits(w.ov.runtime.host.store, (writes) => {
    heartbeat += writes.filter((x) => x.db === 'timers' && x.key.at(-1) === 'heartbeat').length;
  });
  return { heartbeat: () => heartbeat };
}

let world: World | undefined;
afterEach(async () => {
  await world?.dispose();
  world = undefined;
});

const offline = (id: string, at: number, from = 'IDLE') => ({
  id,
  event: 'HEARTBEAT_TIMEOUT',
  from,
  to: 'OFFLINE',
  at,
});

describe('the heartbeat deadline', () => {
  it('turns a silent worker OFFLINE exactly at the timeout, not a millisecond before', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    expect(world.due('worker', w.id, 'heartbeat')).toBe(H);

    await world.advance(H - 1);
    expect(await world.status('worker', w.id)).toBe('IDLE');
    expect(await world.fired()).toEqual([]);

    await world.advance(1);
    expect(await world.status('worker', w.id)).toBe('OFFLINE');
    expect(await world.fired()).toEqual([offline(w.id, H)]);
    const [record] = (await world.journal()).filter((r) => r.event === 'HEARTBEAT_TIMEOUT');
    expect(record).toMatchObject({ kind: 'worker', principal: 'system', at: world.t0 + H });

    // It fired once and is gone: nothing more happens, however long the worker stays silent.
    expect(world.due('worker', w.id, 'heartbeat')).toBeUndefined();
    await world.advance(10 * H);
    expect(await world.fired()).toEqual([offline(w.id, H)]);
  });

  it('moves with every heartbeat', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.advance(H / 2);
    await world.ws.workers.heartbeat(w.id);
    expect(world.due('worker', w.id, 'heartbeat')).toBe(H / 2 + H);

    await world.advanceTo(H); // the first deadline has passed: it was moved
    expect(await world.status('worker', w.id)).toBe('IDLE');
    await world.advanceTo(H / 2 + H - 1);
    await world.ws.workers.heartbeat(w.id);
    await world.advanceTo(2 * H + H / 2 - 2);
    expect(await world.status('worker', w.id)).toBe('IDLE');
    await world.advance(1);
    expect(await world.fired()).toEqual([offline(w.id, 2 * H + H / 2 - 1)]);
  });

  it('is suspended while PAUSED and re-armed by RESUME', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.advance(H - 1);
    await world.ws.workers.pause(w.id);
    expect(world.due('worker', w.id, 'heartbeat')).toBeUndefined();

    await world.advance(100 * H);
    expect(await world.status('worker', w.id)).toBe('PAUSED');
    // A heartbeat while paused is answered 'pause' and arms nothing.
    expect((await world.ws.workers.heartbeat(w.id)).directive).toBe('pause');
    expect(world.due('worker', w.id, 'heartbeat')).toBeUndefined();
    await world.advance(100 * H);
    expect(await world.status('worker', w.id)).toBe('PAUSED');
    expect(await world.fired()).toEqual([]);

    const resumedAt = world.now;
    expect((await world.ws.workers.resume(w.id)).status).toBe('IDLE');
    expect(world.due('worker', w.id, 'heartbeat')).toBe(resumedAt + H);
    await world.advance(H - 1);
    expect(await world.status('worker', w.id)).toBe('IDLE');
    await world.advance(1);
    expect(await world.fired()).toEqual([offline(w.id, resumedAt + H)]);
  });

  it('stays suspended across a restart while PAUSED', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    await world.restart(10 * H);
    await world.advance(10 * H);
    expect(await world.status('worker', w.id)).toBe('PAUSED');
    expect(await world.fired()).toEqual([]);
  });

  it('is re-armed when a heartbeat brings an OFFLINE worker back to IDLE', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.advance(H);
    expect(await world.status('worker', w.id)).toBe('OFFLINE');

    await world.advance(5 * H);
    const backAt = world.now;
    expect(await world.ws.workers.heartbeat(w.id)).toEqual({ directive: 'continue', leaseExpiresAt: null });
    const back = await world.ws.workers.get(w.id);
    expect(back).toMatchObject({ status: 'IDLE', jobId: null, lastHeartbeatAt: world.t0 + backAt });
    expect(world.due('worker', w.id, 'heartbeat')).toBe(backAt + H);
    const journal = await world.journal();
    expect(journal.at(-1)).toMatchObject({ event: 'HEARTBEAT', from: 'OFFLINE', to: 'IDLE' });

    await world.advance(H - 1);
    expect(await world.status('worker', w.id)).toBe('IDLE');
    await world.advance(1);
    expect(await world.fired()).toEqual([offline(w.id, H), offline(w.id, backAt + H)]);
  });

  it('keeps each worker on its own deadline', async () => {
    world = await World.open();
    const a = await world.ws.workers.register({ name: 'a' });
    await world.advance(3_000);
    const b = await world.ws.workers.register({ name: 'b' });
    await world.advanceTo(H);
    expect(await world.status('worker', b.id)).toBe('IDLE');
    await world.advanceTo(H + 3_000);
    await world.advance(10 * H);
    expect(await world.fired()).toEqual([offline(a.id, H), offline(b.id, H + 3_000)]);
  });

  it('a claim moves it to the whole second after claim + timeout + the longest wait, writing only when it moves', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.jobs.submitMany([{ title: 'a' }, { title: 'b' }, { title: 'c' }]);
    const timerWrites = spyTimerWrites(world);
    const roundedUp = (at: number) => Math.ceil((world!.t0 + at + H + MAX_WAIT_MS) / 1000) * 1000 - world!.t0;

    await world.advanceTo(250);
    const first = await world.ws.queue.claim({ workerId: w.id });
    expect(world.due('worker', w.id, 'heartbeat')).toBe(roundedUp(250));
    const moved = timerWrites.heartbeat();

    // Within the same second the deadline stays where it is: the heartbeat timer is not written again.
    await world.advanceTo(600);
    const second = await world.ws.queue.complete({
      jobId: first.job!.id,
      leaseToken: first.lease!.token,
      claimNext: true,
    });
    expect(world.due('worker', w.id, 'heartbeat')).toBe(roundedUp(250));
    expect(timerWrites.heartbeat()).toBe(moved);

    // A second later it moves again (one delete and one put).
    await world.advanceTo(1_700);
    await world.ws.queue.complete({
      jobId: second.next!.job!.id,
      leaseToken: second.next!.lease!.token,
      claimNext: true,
    });
    expect(world.due('worker', w.id, 'heartbeat')).toBe(roundedUp(1_700));
    expect(timerWrites.heartbeat()).toBe(moved + 2);

    // The worker then falls silent: it goes OFFLINE at that deadline, not before.
    await world.advanceTo(roundedUp(1_700) - 1);
    expect(await world.status('worker', w.id)).not.toBe('OFFLINE');
    await world.advanceTo(roundedUp(1_700));
    expect(await world.status('worker', w.id)).toBe('OFFLINE');
  });

  it('fires both at the jump target when one increment passes both deadlines', async () => {
    world = await World.open();
    const a = await world.ws.workers.register({ name: 'a' });
    await world.advance(3_000);
    const b = await world.ws.workers.register({ name: 'b' });
    await world.advance(2 * H);
    expect(await world.fired()).toEqual([offline(a.id, 2 * H + 3_000), offline(b.id, 2 * H + 3_000)]);
  });
});

describe('the session limits', () => {
  const terminated = (id: string, event: string, from: string, at: number) => ({
    id,
    event,
    from,
    to: 'TERMINATED',
    at,
  });

  it("end an IDLE session with 'idle_timeout' after the idle limit", async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id); // keeps the worker out of the journal
    const s = await world.ws.sessions.open({ workerId: w.id });
    expect(world.due('session', s.id, 'session-age')).toBe(A);
    expect(world.due('session', s.id, 'session-idle')).toBeUndefined();

    await world.advance(5_000);
    expect((await world.ws.sessions.idle(s.id)).status).toBe('IDLE');
    expect(world.due('session', s.id, 'session-idle')).toBe(5_000 + I);
    await world.advance(I - 1);
    expect(await world.status('session', s.id)).toBe('IDLE');
    await world.advance(1);
    const ended = await world.ws.sessions.get(s.id);
    expect(ended).toMatchObject({ status: 'TERMINATED', endedReason: 'idle_timeout' });
    expect(await world.fired()).toEqual([terminated(s.id, 'IDLE_TIMEOUT', 'IDLE', 5_000 + I)]);

    // The age timer went with it: nothing fires at the age limit.
    expect(world.due('session', s.id, 'session-age')).toBeUndefined();
    await world.advance(2 * A);
    expect(await world.fired()).toHaveLength(1);
  });

  it('touch cancels the idle timer; going idle again starts it afresh', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    const s = await world.ws.sessions.open({ workerId: w.id });
    await world.ws.sessions.idle(s.id);
    await world.advance(I - 1);
    expect((await world.ws.sessions.touch(s.id)).status).toBe('ACTIVE');
    expect(world.due('session', s.id, 'session-idle')).toBeUndefined();
    await world.advance(I); // past the first idle deadline
    expect(await world.status('session', s.id)).toBe('ACTIVE');

    const idleAt = world.now;
    await world.ws.sessions.idle(s.id);
    await world.advance(I - 1);
    expect(await world.status('session', s.id)).toBe('IDLE');
    await world.advance(1);
    expect(await world.ws.sessions.get(s.id)).toMatchObject({
      status: 'TERMINATED',
      endedReason: 'idle_timeout',
    });
    expect(await world.fired()).toEqual([terminated(s.id, 'IDLE_TIMEOUT', 'IDLE', idleAt + I)]);
  });

  it("end a session with 'max_age' at its age limit, active or idle", async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    const active = await world.ws.sessions.open({ workerId: w.id });
    await world.advance(1_000);
    const idle = await world.ws.sessions.open({ workerId: w.id });
    await world.advance(A - I + 500); // idle's idle limit would land after its age limit
    await world.ws.sessions.idle(idle.id);
    expect(world.due('session', idle.id, 'session-idle')).toBe(1_000 + A + 500);

    await world.advanceTo(A - 1);
    expect(await world.status('session', active.id)).toBe('ACTIVE');
    await world.advanceTo(A);
    expect(await world.ws.sessions.get(active.id)).toMatchObject({
      status: 'TERMINATED',
      endedReason: 'max_age',
    });
    expect(await world.status('session', idle.id)).toBe('IDLE');
    await world.advanceTo(1_000 + A);
    expect(await world.ws.sessions.get(idle.id)).toMatchObject({
      status: 'TERMINATED',
      endedReason: 'max_age',
    });
    expect(world.due('session', idle.id, 'session-idle')).toBeUndefined();
    await world.advance(5 * A);
    expect(await world.fired()).toEqual([
      terminated(active.id, 'MAX_AGE_REACHED', 'ACTIVE', A),
      terminated(idle.id, 'MAX_AGE_REACHED', 'IDLE', 1_000 + A),
    ]);
  });

  it('close cancels both timers: nothing fires later', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    const s = await world.ws.sessions.open({ workerId: w.id });
    await world.ws.sessions.idle(s.id);
    await world.advance(1_000);
    expect(await world.ws.sessions.close(s.id)).toMatchObject({
      status: 'TERMINATED',
      endedReason: 'closed',
    });
    expect(world.due('session', s.id, 'session-idle')).toBeUndefined();
    expect(world.due('session', s.id, 'session-age')).toBeUndefined();
    await world.advance(10 * A);
    await world.restart(10 * A);
    expect(await world.fired()).toEqual([]);
    expect(await world.ws.sessions.get(s.id)).toMatchObject({ status: 'TERMINATED', endedReason: 'closed' });
  });
});

describe('a restart', () => {
  it('re-arms a heartbeat deadline that passed during the downtime to restart + timeout', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.advance(H / 2);
    await world.ws.workers.heartbeat(w.id); // due at 1.5 H
    await world.restart(5 * H); // down from 0.5 H to 5.5 H
    const restartedAt = world.now;
    expect(restartedAt).toBe(5.5 * H);

    expect(await world.status('worker', w.id)).toBe('IDLE');
    expect(world.due('worker', w.id, 'heartbeat')).toBe(restartedAt + H);
    await world.advance(H - 1);
    expect(await world.status('worker', w.id)).toBe('IDLE');
    expect(await world.fired()).toEqual([]);
    await world.advance(1);
    expect(await world.fired()).toEqual([offline(w.id, restartedAt + H)]);
  });

  it('re-arms it durably: a second restart before the new deadline keeps the new deadline', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.restart(3 * H); // due 0 + H passed: now 3 H + H
    await world.restart(H / 2); // 3.5 H: not yet due, stays at 4 H
    expect(world.due('worker', w.id, 'heartbeat')).toBe(4 * H);
    await world.advanceTo(4 * H - 1);
    expect(await world.status('worker', w.id)).toBe('IDLE');
    await world.advanceTo(4 * H);
    expect(await world.fired()).toEqual([offline(w.id, 4 * H)]);
  });

  it('fires an idle limit that passed during the downtime at once, at the restart time', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    const s = await world.ws.sessions.open({ workerId: w.id });
    await world.ws.sessions.idle(s.id);
    await world.restart(I + 5_000);
    expect(await world.ws.sessions.get(s.id)).toMatchObject({
      status: 'TERMINATED',
      endedReason: 'idle_timeout',
    });
    expect(await world.fired()).toEqual([
      { id: s.id, event: 'IDLE_TIMEOUT', from: 'IDLE', to: 'TERMINATED', at: I + 5_000 },
    ]);
    await world.advance(2 * A);
    expect(await world.fired()).toHaveLength(1);
  });

  it('fires an age limit that passed during the downtime at once, at the restart time', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    const s = await world.ws.sessions.open({ workerId: w.id });
    await world.restart(A + 1);
    expect(await world.ws.sessions.get(s.id)).toMatchObject({ status: 'TERMINATED', endedReason: 'max_age' });
    expect(await world.fired()).toEqual([
      { id: s.id, event: 'MAX_AGE_REACHED', from: 'ACTIVE', to: 'TERMINATED', at: A + 1 },
    ]);
  });

  it('fires the earlier of two overdue session limits, and only that one', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    const s = await world.ws.sessions.open({ workerId: w.id });
    await world.advance(A - I - 1);
    await world.ws.sessions.idle(s.id); // idle due at A - 1, age at A
    await world.restart(2 * A);
    expect(await world.ws.sessions.get(s.id)).toMatchObject({ endedReason: 'idle_timeout' });
    expect(await world.fired()).toEqual([
      { id: s.id, event: 'IDLE_TIMEOUT', from: 'IDLE', to: 'TERMINATED', at: A - I - 1 + 2 * A },
    ]);
  });

  it('keeps the due time of timers not yet due at restart', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    const p = await world.ws.workers.register({ name: 'paused' });
    await world.ws.workers.pause(p.id);
    const s = await world.ws.sessions.open({ workerId: p.id });
    await world.ws.sessions.idle(s.id);
    await world.advance(1_000);
    await world.restart(2_000); // back at 3 s: every deadline is still ahead
    expect(world.due('worker', w.id, 'heartbeat')).toBe(H);
    expect(world.due('session', s.id, 'session-idle')).toBe(I);
    expect(world.due('session', s.id, 'session-age')).toBe(A);

    await world.advanceTo(H - 1);
    expect(await world.status('worker', w.id)).toBe('IDLE');
    await world.advanceTo(H);
    expect(await world.status('worker', w.id)).toBe('OFFLINE');
    await world.advanceTo(I - 1);
    expect(await world.status('session', s.id)).toBe('IDLE');
    await world.advanceTo(I);
    expect(await world.fired()).toEqual([
      offline(w.id, H),
      { id: s.id, event: 'IDLE_TIMEOUT', from: 'IDLE', to: 'TERMINATED', at: I },
    ]);
  });

  it('fires nothing twice: a timer that fired before a restart is gone after it', async () => {
    world = await World.open();
    const w = await world.ws.workers.register({ name: 'w' });
    const s = await world.ws.sessions.open({ workerId: w.id });
    await world.ws.sessions.idle(s.id);
    await world.advanceTo(H);
    await world.advanceTo(I);
    expect(await world.fired()).toHaveLength(2);
    await world.restart(10 * A);
    await world.advance(10 * A);
    await world.restart(0);
    expect(await world.fired()).toEqual([
      offline(w.id, H),
      { id: s.id, event: 'IDLE_TIMEOUT', from: 'IDLE', to: 'TERMINATED', at: I },
    ]);
    expect(world.ov.runtime.host.timers.size).toBe(0);
  });
});

describe('delays beyond 2^31 - 1 ms', () => {
  const DAY = 86_400_000;
  const MONTH = 30 * DAY; // 2,592,000,000 ms > 2,147,483,647
  // Retention would otherwise drop month-old journal records before the test reads them.
  const long: Partial<OverseerOptions> = {
    session: { idleTimeoutSeconds: MONTH / 1000, maxAgeSeconds: MONTH / 1000 },
    journalRetentionMs: 365 * DAY,
  };

  it('fire at the exact due time, the JS timer being re-armed in steps', async () => {
    const clock = simulatedClock();
    const delays: number[] = [];
    const original = clock.setTimeout.bind(clock);
    vi.spyOn(clock, 'setTimeout').mockImplementation((fn, ms) => {
      delays.push(ms);
      return original(fn, ms);
    });
    world = await World.open(long, clock);
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    const s = await world.ws.sessions.open({ workerId: w.id });
    expect(MONTH).toBeGreaterThan(MAX_TIMER_DELAY_MS);

    // The JS timer was still armed for the cancelled heartbeat; when it goes off, the month-long delay is
    // armed in steps of at most 2^31 - 1 ms.
    await world.advanceTo(H);
    expect(delays.at(-1)).toBe(MAX_TIMER_DELAY_MS);
    await world.advanceTo(H + MAX_TIMER_DELAY_MS); // the first step elapses: nothing is due yet
    expect(await world.status('session', s.id)).toBe('ACTIVE');
    expect(delays).toContain(MONTH - H - MAX_TIMER_DELAY_MS);
    await world.advanceTo(MONTH - 1);
    expect(await world.status('session', s.id)).toBe('ACTIVE');
    await world.advanceTo(MONTH);
    expect(await world.ws.sessions.get(s.id)).toMatchObject({ status: 'TERMINATED', endedReason: 'max_age' });
    expect(await world.fired()).toEqual([
      { id: s.id, event: 'MAX_AGE_REACHED', from: 'ACTIVE', to: 'TERMINATED', at: MONTH },
    ]);
    expect(delays.every((d) => d <= MAX_TIMER_DELAY_MS)).toBe(true);
  });

  it('fire at the exact due time when the clock moves a day at a time', async () => {
    world = await World.open(long);
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    await world.advance(DAY / 2);
    const s = await world.ws.sessions.open({ workerId: w.id });
    for (let day = 1; day < 30; day++) await world.advance(DAY);
    expect(await world.status('session', s.id)).toBe('ACTIVE');
    expect(world.now).toBe(MONTH - DAY / 2);
    await world.advance(DAY - 1);
    expect(await world.status('session', s.id)).toBe('ACTIVE');
    await world.advance(1);
    expect(await world.fired()).toEqual([
      { id: s.id, event: 'MAX_AGE_REACHED', from: 'ACTIVE', to: 'TERMINATED', at: MONTH + DAY / 2 },
    ]);
  });

  it('keep their due time across a restart', async () => {
    world = await World.open(long);
    const w = await world.ws.workers.register({ name: 'w' });
    await world.ws.workers.pause(w.id);
    const s = await world.ws.sessions.open({ workerId: w.id });
    await world.ws.sessions.idle(s.id);
    await world.advance(10 * DAY);
    await world.restart(10 * DAY);
    expect(world.due('session', s.id, 'session-idle')).toBe(MONTH);
    await world.advanceTo(MONTH - 1);
    expect(await world.status('session', s.id)).toBe('IDLE');
    await world.advanceTo(MONTH);
    // Idle and age limits are both due at MONTH; exactly one of them ends the session.
    const fired = await world.fired();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ id: s.id, to: 'TERMINATED', at: MONTH });
    await world.advance(MONTH);
    expect(await world.fired()).toHaveLength(1);
  });
});
