import { describe, expect, it } from 'vitest';
import { workstreamMachine } from '../../src/machines/workstream.ts';
import type { WorkstreamEvent, WorkstreamInput } from '../../src/machines/workstream.ts';
import { graphSuite, replay } from './graph-helpers.ts';

const at = 1_000;
const input: WorkstreamInput = {
  id: 'stream-1',
  workspaceId: 'ws',
  definitionId: 'def-1',
  name: 'release',
  at: 0,
};

/** One sample per event type (the chart has no guards). */
const events: WorkstreamEvent[] = [
  {
    type: 'JOBS_CREATED',
    at,
    tasks: [
      { taskId: 't1', jobId: 'job-1', dependsOn: [], estimateSeconds: 60 },
      { taskId: 't2', jobId: 'job-2', dependsOn: ['t1'], estimateSeconds: 30 },
    ],
  },
  { type: 'START', at },
  { type: 'ALL_COMPLETED', at },
  { type: 'JOB_FAILED', at, reason: 'job-2 failed' },
  { type: 'CANCEL', at },
];

describe('workstream chart, driven by its graph', () => {
  graphSuite({ machine: workstreamMachine, input, events, finals: ['COMPLETED', 'FAILED', 'CANCELED'] });
});

describe('workstream behaviour', () => {
  const run = (evs: WorkstreamEvent[]) => replay(workstreamMachine, input, evs).getSnapshot();
  const created: WorkstreamEvent = {
    type: 'JOBS_CREATED',
    at,
    tasks: [
      { taskId: 't1', jobId: 'job-1', dependsOn: [], estimateSeconds: 60 },
      { taskId: 't2', jobId: 'job-2', dependsOn: ['t1'], estimateSeconds: 30 },
    ],
  };

  it('PLANNED → READY (recording its jobs) → EXECUTING → COMPLETED', () => {
    expect(run([created]).context.jobIds).toEqual(['job-1', 'job-2']);
    const s = run([created, { type: 'START', at }, { type: 'ALL_COMPLETED', at: 2_000 }]);
    expect(s.value).toBe('COMPLETED');
    expect(s.status).toBe('done');
    expect(s.context.updatedAt).toBe(2_000);
  });

  it('a failed job fails the workstream with its reason', () => {
    const s = run([created, { type: 'START', at }, { type: 'JOB_FAILED', at, reason: 'job-2 failed' }]);
    expect(s.value).toBe('FAILED');
    expect(s.context.lastError).toBe('job-2 failed');
  });

  it('cannot start before its jobs exist', () => {
    expect(run([]).can({ type: 'START', at })).toBe(false);
  });

  it.each([
    ['PLANNED', []],
    ['READY', [created]],
    ['EXECUTING', [created, { type: 'START', at }]],
  ] as Array<[string, WorkstreamEvent[]]>)('CANCEL from %s → CANCELED; then nothing more', (_, before) => {
    const s = run([...before, { type: 'CANCEL', at, reason: 'superseded' }]);
    expect(s.value).toBe('CANCELED');
    expect(s.context.lastError).toBe('superseded');
    expect(s.can({ type: 'CANCEL', at })).toBe(false);
  });
});
