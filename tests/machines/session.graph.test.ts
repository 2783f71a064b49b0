import { describe, expect, it } from 'vitest';
import { sessionMachine } from '../../src/machines/session.ts';
import type { SessionEvent, SessionInput } from '../../src/machines/session.ts';
import { coveredTransitions, declaredTransitions, explore, graphSuite, replay } from './graph-helpers.ts';

const at = 1_000;
const input: SessionInput = {
  id: 'session-1',
  workspaceId: 'ws',
  workerId: 'worker-1',
  jobId: 'job-1',
  at: 0,
};

/** One sample per event type (no guard looks at a payload). */
const events: SessionEvent[] = [
  { type: 'ACTIVITY', at },
  { type: 'IDLE', at },
  { type: 'IDLE_TIMEOUT', at },
  { type: 'MAX_AGE_REACHED', at },
  { type: 'TERMINATE', at },
];

describe('session chart, driven by its graph', () => {
  graphSuite({ machine: sessionMachine, input, events, finals: ['TERMINATED'] });

  it('the coverage check fails when the sample events cannot take a declared transition', () => {
    const without = explore(
      sessionMachine,
      input,
      events.filter((e) => e.type !== 'IDLE_TIMEOUT'),
    );
    const covered = coveredTransitions(without);
    expect(declaredTransitions(sessionMachine).filter((k) => !covered.includes(k))).toEqual([
      'IDLE: IDLE_TIMEOUT#0 → TERMINATED',
    ]);
  });
});

describe('session behaviour', () => {
  const run = (evs: SessionEvent[]) => replay(sessionMachine, input, evs).getSnapshot();

  it('IDLE + IDLE_TIMEOUT → TERMINATED with endedReason idle_timeout', () => {
    const s = run([
      { type: 'IDLE', at },
      { type: 'IDLE_TIMEOUT', at: 1_800_000 },
    ]);
    expect(s.value).toBe('TERMINATED');
    expect(s.status).toBe('done');
    expect(s.context.endedReason).toBe('idle_timeout');
    expect(s.context.updatedAt).toBe(1_800_000);
  });

  it('an active session ignores IDLE_TIMEOUT (the idle timer only counts while IDLE)', () => {
    const s = replay(sessionMachine, input, []).getSnapshot();
    expect(s.can({ type: 'IDLE_TIMEOUT', at })).toBe(false);
  });

  it.each([
    ['ACTIVE', []],
    ['IDLE', [{ type: 'IDLE', at }]],
  ] as Array<[string, SessionEvent[]]>)(
    'MAX_AGE_REACHED from %s → TERMINATED with endedReason max_age',
    (_, before) => {
      const s = run([...before, { type: 'MAX_AGE_REACHED', at: 3_600_000 }]);
      expect(s.value).toBe('TERMINATED');
      expect(s.context.endedReason).toBe('max_age');
    },
  );

  it('ACTIVITY records activity and wakes an idle session', () => {
    const s = run([
      { type: 'IDLE', at },
      { type: 'ACTIVITY', at: 5_000 },
    ]);
    expect(s.value).toBe('ACTIVE');
    expect(s.context.lastActivityAt).toBe(5_000);
  });

  it('TERMINATE records its reason, or closed', () => {
    expect(run([{ type: 'TERMINATE', at, reason: 'worker gone' }]).context.endedReason).toBe('worker gone');
    expect(run([{ type: 'TERMINATE', at }]).context.endedReason).toBe('closed');
  });
});
