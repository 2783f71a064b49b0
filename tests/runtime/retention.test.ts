import { afterEach, describe, expect, it } from 'vitest';
import { simulatedClock } from '../../src/testing.ts';
import { openTestOverseer, watchCommits, type TestOverseer } from '../support/open.ts';

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

const HOUR = 3600_000;

describe('retention', () => {
  it('expires idempotency keys after their TTL (default 24 h)', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock, retentionIntervalMs: 1e12 });
    const ws = t.ov.workspace('acme');
    const first = await ws.jobs.submit({ title: 'a' }, { idempotencyKey: 'k' });
    clock.increment(23 * HOUR);
    expect((await ws.jobs.submit({ title: 'a' }, { idempotencyKey: 'k' })).id).toBe(first.id);
    clock.increment(2 * HOUR);
    const report = await t.ov.runtime.retain();
    expect(report.idempotencyKeys).toBe(1);
    const second = await ws.jobs.submit({ title: 'a' }, { idempotencyKey: 'k' });
    expect(second.id).not.toBe(first.id);
    // The newer record is not removed by the old one's expiry entry.
    expect((await ws.jobs.submit({ title: 'a' }, { idempotencyKey: 'k' })).id).toBe(second.id);
  });

  it('an expired key is not replayed even before the sweep runs', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock, retentionIntervalMs: 1e12, idempotencyTtlMs: 1000 });
    const ws = t.ov.workspace('acme');
    const first = await ws.jobs.submit({ title: 'a' }, { idempotencyKey: 'k' });
    clock.increment(1001);
    expect((await ws.jobs.submit({ title: 'a' }, { idempotencyKey: 'k' })).id).not.toBe(first.id);
  });

  it('removes journal records older than the window in batches, keeping the newest', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock, retentionIntervalMs: 1e12, journalRetentionMs: HOUR });
    const ws = t.ov.workspace('acme');
    await ws.jobs.submitMany(Array.from({ length: 600 }, (_, i) => ({ title: `old${i}` })));
    clock.increment(2 * HOUR);
    await ws.jobs.submit({ title: 'new' });
    const commits: number[] = [];
    watchCommits(t.ov.runtime.host.store, (writes) =>
      commits.push(writes.filter((w) => w.db === 'journal' && w.value === undefined).length),
    );
    const report = await t.ov.runtime.retain();
    expect(report.journalRecords).toBe(1200);
    expect(Math.max(...commits)).toBeLessThanOrEqual(1000);
    const { events } = await ws.events.list();
    expect(events.map((e) => e.seq)).toEqual([1201, 1202]);
    // The seq counter carries on after a restart.
    const ov = await t.reopen();
    await ov.workspace('acme').jobs.submit({ title: 'after' });
    expect((await ov.workspace('acme').events.list()).events.map((e) => e.seq)).toEqual([
      1201, 1202, 1203, 1204,
    ]);
  });

  it('never removes records a consumer has not passed', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock, retentionIntervalMs: 1e12, journalRetentionMs: HOUR });
    const ws = t.ov.workspace('acme');
    await ws.jobs.submitMany(Array.from({ length: 10 }, (_, i) => ({ title: `j${i}` })));
    const store = t.ov.runtime.host.store;
    await store.commit([{ db: 'meta', key: ['cursor', 'acme', 'exporter'], value: 4 }]);
    clock.increment(2 * HOUR);
    const report = await t.ov.runtime.retain();
    expect(report.journalRecords).toBe(4);
    expect((await ws.events.list()).events[0]!.seq).toBe(5);
  });
});
