import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { openTestOverseer, type TestOverseer } from '../support/open.ts';

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
});

describe('the inspect option', () => {
  it('hands an XState inspection observer to every actor, restored ones included', async () => {
    const events: InspectionEvent[] = [];
    t = await openTestOverseer({ inspect: (e) => events.push(e) });
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'watched' });
    const w = await ws.workers.register({ name: 'w' });
    const values = events
      .filter((e) => e.type === '@xstate.snapshot')
      .map((e) => (e as unknown as { snapshot: { value: unknown } }).snapshot.value);
    expect(values).toContain('QUEUED');
    expect(values).toContain('IDLE');
    expect(events.filter((e) => e.type === '@xstate.actor').length).toBeGreaterThanOrEqual(2);
    const sent = events
      .filter((e) => e.type === '@xstate.event')
      .map((e) => (e as { event: { type: string } }).event.type);
    expect(sent).toContain('ENQUEUE');

    t.ov.runtime.host.passivate(Infinity);
    events.length = 0;
    await ws.workers.pause(w.id);
    await ws.jobs.cancel(job.id);
    const after = events
      .filter((e) => e.type === '@xstate.snapshot')
      .map((e) => (e as unknown as { snapshot: { value: unknown } }).snapshot.value);
    expect(after).toEqual(expect.arrayContaining(['PAUSED', 'CANCELED']));
  });
});
