import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceClient } from '../../src/index.ts';
import { openTestOverseer, rejection, watchCommits, type TestOverseer } from '../support/open.ts';

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

const definition = {
  schema_version: '2.0.0' as const,
  workstream_id: 'auth-v2',
  name: 'Auth v2',
  tasks: [
    { task_id: 'design', name: 'Design', type: 'docs', execution: { estimated_seconds: 600 } },
    {
      task_id: 'api',
      name: 'API',
      type: 'feature',
      dependencies: ['design'],
      worker_requirements: { capabilities: ['typescript'] },
      execution: { timeout_seconds: 1800, max_retries: 1 },
    },
    {
      task_id: 'ui',
      name: 'UI',
      type: 'feature',
      dependencies: ['design'],
      execution: { estimated_seconds: 900 },
    },
    {
      task_id: 'e2e',
      name: 'E2E',
      type: 'qa',
      dependencies: ['api', 'ui'],
      execution: { estimated_seconds: 300 },
      validation_rules: { coverage: 0.9 },
    },
  ],
};

async function drain(ws: WorkspaceClient, workerId: string): Promise<string[]> {
  const done: string[] = [];
  let c = await ws.queue.claim({ workerId });
  while (c.job) {
    done.push(c.job.title);
    c = (await ws.queue.complete({ jobId: c.job.id, leaseToken: c.lease!.token, claimNext: true })).next!;
  }
  return done;
}

describe('workstreams', () => {
  it('creates every job in one commit and runs the DAG to COMPLETED', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const commits: number[] = [];
    const unwatch = watchCommits(t.ov.runtime.host.store, (w) => commits.push(w.length));
    const stream = await ws.workstreams.submit(definition);
    expect(commits).toHaveLength(1);
    unwatch();
    expect(stream).toMatchObject({ definitionId: 'auth-v2', name: 'Auth v2', status: 'EXECUTING' });
    expect(stream.id).toMatch(/^wst_/);
    const jobs = await Promise.all(stream.tasks.map((task) => ws.jobs.get(task.jobId)));
    const byTask = Object.fromEntries(stream.tasks.map((task, i) => [task.taskId, jobs[i]!]));
    expect(byTask['design']!.status).toBe('QUEUED');
    expect(byTask['api']).toMatchObject({
      status: 'PENDING',
      capabilities: ['typescript'],
      execution: { timeoutSeconds: 1800, maxRetries: 1 },
    });
    expect(byTask['e2e']).toMatchObject({
      type: 'other',
      metadata: { taskType: 'qa', estimatedSeconds: 300, validationRules: { coverage: 0.9 } },
    });
    expect(byTask['e2e']!.dependsOn.sort()).toEqual([byTask['api']!.id, byTask['ui']!.id].sort());
    const w = await ws.workers.register({ name: 'w', capabilities: ['typescript'] });
    expect(await drain(ws, w.id)).toEqual(['Design', 'API', 'UI', 'E2E']);
    expect((await ws.workstreams.get(stream.id)).status).toBe('COMPLETED');
  });

  it('plans: topological order, stages and the critical path with its estimate', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const stream = await ws.workstreams.submit(definition, { start: false });
    const plan = await ws.workstreams.plan(stream.id);
    expect(plan.order.map((s) => s.taskId)).toEqual(['design', 'api', 'ui', 'e2e']);
    expect(plan.stages.map((s) => s.map((x) => x.taskId))).toEqual([['design'], ['api', 'ui'], ['e2e']]);
    // api has no estimate: its timeout (1800 s) stands in.
    expect(plan.criticalPath).toMatchObject({ estimateSeconds: 600 + 1800 + 300 });
    expect(plan.criticalPath.tasks.map((s) => s.taskId)).toEqual(['design', 'api', 'e2e']);
  });

  it('start: false keeps every job SUBMITTED until workstreams.start', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const stream = await ws.workstreams.submit(definition, { start: false });
    expect(stream.status).toBe('READY');
    for (const task of stream.tasks) expect((await ws.jobs.get(task.jobId)).status).toBe('SUBMITTED');
    expect((await ws.workstreams.start(stream.id)).status).toBe('EXECUTING');
    expect((await ws.jobs.get(stream.tasks[0]!.jobId)).status).toBe('QUEUED');
    expect((await rejection(ws.workstreams.start(stream.id))).code).toBe('INVALID_STATE_TRANSITION');
  });

  it('fails when a job fails, and cancel cancels its jobs', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const stream = await ws.workstreams.submit(definition);
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    await ws.queue.fail({ jobId: c.job!.id, leaseToken: c.lease!.token, reason: 'nope', retryable: false });
    expect((await ws.workstreams.get(stream.id)).status).toBe('FAILED');
    const second = await ws.workstreams.submit({ ...definition, workstream_id: 'again' });
    const canceled = await ws.workstreams.cancel(second.id);
    expect(canceled.status).toBe('CANCELED');
    for (const task of second.tasks) expect((await ws.jobs.get(task.jobId)).status).toBe('CANCELED');
  });

  it('answers DEPENDENCY_CYCLE with the cycle, and VALIDATION_FAILED without schema_version', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const cyclic = {
      ...definition,
      tasks: [
        { task_id: 'a', name: 'A', type: 'feature', dependencies: ['b'] },
        { task_id: 'b', name: 'B', type: 'feature', dependencies: ['a'] },
      ],
    };
    const err = await rejection(ws.workstreams.submit(cyclic));
    expect(err.code).toBe('DEPENDENCY_CYCLE');
    expect((err.details!['cycle'] as string[]).length).toBe(3);
    const { schema_version: _v, ...v1 } = definition;
    const bad = await rejection(ws.workstreams.submit(v1 as never));
    expect(bad.code).toBe('VALIDATION_FAILED');
    expect(bad.message).toContain('schema_version');
    expect((await ws.jobs.list()).jobs).toHaveLength(0);
  });

  it('a job canceled while the workstream is READY fails it at start', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const stream = await ws.workstreams.submit(definition, { start: false });
    await ws.jobs.cancel(stream.tasks[3]!.jobId);
    expect((await ws.workstreams.start(stream.id)).status).toBe('FAILED');
  });

  it('a job canceled while READY fails it at start, and the jobs that do not depend on it still run', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const stream = await ws.workstreams.submit(definition, { start: false });
    const job = (task: string) => stream.tasks.find((x) => x.taskId === task)!.jobId;
    await ws.jobs.cancel(job('ui'));
    expect((await ws.workstreams.start(stream.id)).status).toBe('FAILED');
    expect((await ws.jobs.get(job('e2e'))).status).toBe('BLOCKED'); // depends on ui
    expect((await ws.jobs.get(job('design'))).status).toBe('QUEUED');
    expect((await ws.jobs.get(job('api'))).status).toBe('PENDING'); // waits for design, not for ui
  });
});
