import { describe, expect, it } from 'vitest';
import { workerMachine } from '../../src/machines/worker.ts';
import type { WorkerEvent, WorkerInput } from '../../src/machines/worker.ts';
import { graphSuite, replay } from './graph-helpers.ts';

const at = 1_000;
const input: WorkerInput = {
  id: 'worker-1',
  workspaceId: 'ws',
  name: 'agent',
  capabilities: ['ts'],
  registeredBy: 'runner',
  at: 0,
};

const claimed = { type: 'CLAIMED', at, jobId: 'job-1', leaseFence: '1', leaseDigest: 'digest-1' } as const;
const jobEnded = { type: 'JOB_ENDED', at } as const;
const pause = { type: 'PAUSE', at } as const;
const resume = { type: 'RESUME', at } as const;
const lapse = { type: 'HEARTBEAT_TIMEOUT', at } as const;
const beatLive = { type: 'HEARTBEAT', at, leaseLive: true } as const;
const beatDead = { type: 'HEARTBEAT', at, leaseLive: false } as const;
const drain = { type: 'DRAIN', at } as const;

/** One sample per event type, and one per payload variant the guards look at. */
const events: WorkerEvent[] = [
  claimed,
  jobEnded,
  { type: 'ASK', at },
  { type: 'ANSWERED', at },
  pause,
  resume,
  { type: 'CRASH', at, reason: 'segfault' },
  { type: 'RESTART', at },
  beatLive,
  beatDead,
  lapse,
  drain,
  { type: 'TERMINATE', at },
  { type: 'REKEY_LEASE', at, leaseDigest: 'digest-2' },
];

describe('worker chart, driven by its graph', () => {
  graphSuite({
    machine: workerMachine,
    input,
    events,
    finals: ['COMPLETED', 'TERMINATED'],
    unreachable: {
      // PAUSED always remembers RUNNING or WAITING when it holds a job (a worker paused from IDLE has none and
      // cannot claim while paused), so the `noJob` / `pausedFrom*` branches before it take every RESUME.
      'PAUSED: RESUME#4 → IDLE': 'defensive fallback: a held job with pausedFrom IDLE cannot arise',
      // DRAIN and JOB_ENDED complete a draining worker without a job in every state now; a snapshot persisted
      // before that (paused, draining, its job ended) still reaches this branch: the test below restores one.
      'PAUSED: RESUME#0 [drainingWithoutJob] → COMPLETED': 'snapshots persisted by earlier versions',
    },
  });
});

describe('worker behaviour', () => {
  const run = (evs: WorkerEvent[]) => replay(workerMachine, input, evs).getSnapshot();

  it('PAUSE from RUNNING then RESUME returns to RUNNING with a resume directive', () => {
    const s = run([claimed, pause, resume]);
    expect(s.value).toBe('RUNNING');
    expect(s.context).toMatchObject({ jobId: 'job-1', pausedFrom: null, pendingDirective: 'resume' });
  });

  it('PAUSE from WAITING then RESUME returns to WAITING; from IDLE to IDLE', () => {
    expect(run([claimed, { type: 'ASK', at }, pause, resume]).value).toBe('WAITING');
    expect(run([pause, resume]).value).toBe('IDLE');
  });

  it('RESUME goes to IDLE if JOB_ENDED arrived while paused', () => {
    const s = run([claimed, pause, jobEnded, resume]);
    expect(s.value).toBe('IDLE');
    expect(s.context.jobId).toBeNull();
  });

  it.each([
    ['IDLE', [], 'IDLE'],
    ['RUNNING', [claimed], 'RUNNING'],
    ['WAITING', [claimed, { type: 'ASK', at }], 'WAITING'],
    ['PAUSED', [claimed, pause], 'PAUSED'],
    ['FAILED', [claimed, { type: 'CRASH', at, reason: 'x' }], 'FAILED'],
    // The heartbeat that ends OFFLINE is also the restarted agent's first one: RETRYING → RUNNING.
    ['RETRYING', [claimed, { type: 'CRASH', at, reason: 'x' }, { type: 'RESTART', at }], 'RUNNING'],
  ] as Array<[string, WorkerEvent[], string]>)(
    'OFFLINE from %s: a heartbeat with a live lease goes back (to %s), a lapsed lease to IDLE',
    (from, before, back) => {
      const offline = run([...before, lapse]);
      expect(offline.value).toBe('OFFLINE');
      expect(offline.context.offlineFrom).toBe(from);
      const live = run([...before, lapse, beatLive]);
      expect(live.value).toBe(back);
      expect(live.context.offlineFrom).toBeNull();
      expect(live.context.lastHeartbeatAt).toBe(at);
      expect(live.context.jobId).toBe(from === 'IDLE' ? null : 'job-1');
      const lost = run([...before, lapse, beatDead]);
      // A paused worker's lease is suspended while it is paused, so it goes back to PAUSED either way.
      expect(lost.value).toBe(from === 'PAUSED' ? 'PAUSED' : 'IDLE');
      expect(lost.context.jobId).toBe(from === 'PAUSED' ? 'job-1' : null);
    },
  );

  it('RETRYING + first heartbeat: RUNNING while the lease is live, else IDLE without the job', () => {
    const restarted: WorkerEvent[] = [claimed, { type: 'CRASH', at, reason: 'oom' }, { type: 'RESTART', at }];
    const live = run([...restarted, beatLive]);
    expect(live.value).toBe('RUNNING');
    expect(live.context.jobId).toBe('job-1');
    const dead = run([...restarted, beatDead]);
    expect(dead.value).toBe('IDLE');
    expect(dead.context.jobId).toBeNull();
  });

  it('CRASH keeps the job (its lease stays with the worker)', () => {
    const s = run([claimed, { type: 'CRASH', at, reason: 'oom' }]);
    expect(s.value).toBe('FAILED');
    expect(s.context).toMatchObject({ jobId: 'job-1', lastError: 'oom' });
  });

  it('DRAIN from IDLE completes at once; from RUNNING it completes when the job ends', () => {
    expect(run([drain]).value).toBe('COMPLETED');
    const draining = run([claimed, drain]);
    expect(draining.value).toBe('RUNNING');
    expect(draining.context.draining).toBe(true);
    const done = run([claimed, drain, jobEnded]);
    expect(done.value).toBe('COMPLETED');
    expect(done.status).toBe('done');
    expect(done.context.jobId).toBeNull();
  });

  it('DRAIN completes a worker that holds no job in any state (OFFLINE, PAUSED, FAILED, RETRYING), else with its job', () => {
    const crash = { type: 'CRASH', at, reason: 'oom' } as const;
    const restart = { type: 'RESTART', at } as const;
    for (const path of [[lapse], [pause], [claimed, crash, jobEnded], [claimed, crash, jobEnded, restart]]) {
      const s = run([...path, drain]);
      expect(s.value, JSON.stringify(path)).toBe('COMPLETED');
      expect(s.status).toBe('done');
    }
    for (const path of [
      [claimed, lapse],
      [claimed, pause],
      [claimed, crash],
      [claimed, crash, restart],
    ]) {
      const holding = run([...path, drain]);
      expect(holding.value, JSON.stringify(path)).not.toBe('COMPLETED');
      expect(holding.context.draining).toBe(true);
      const done = run([...path, drain, jobEnded]);
      expect(done.value, JSON.stringify(path)).toBe('COMPLETED');
      expect(done.context.jobId).toBeNull();
    }
  });

  it('TERMINATE ends any non-final worker; a final worker accepts nothing', () => {
    const s = run([claimed, { type: 'TERMINATE', at, reason: 'operator' }]);
    expect(s.value).toBe('TERMINATED');
    expect(s.context.lastError).toBe('operator');
    expect(s.can({ type: 'TERMINATE', at })).toBe(false);
    expect(run([drain]).can({ type: 'TERMINATE', at })).toBe(false);
  });
});
