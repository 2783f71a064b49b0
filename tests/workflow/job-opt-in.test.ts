/**
 * A job opts into a workflow (issue 16): `workflow: "<name>[@<version>]"` on a submit or a task resolves to a
 * registered version the job keeps; an unknown one changes nothing; `execution.workdir` lies under the node's roots.
 */
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_WORKFLOW_YAML } from '../../src/api/commands/workflows.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

const quickV = (version: number) => EXAMPLE_WORKFLOW_YAML.replace('version: 1', `version: ${version}`);

let t: TestOverseer | undefined;
let files: TempDataDir | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
  files?.remove();
  files = undefined;
});

/** Every job and journal record of a workspace. */
async function everything(ws: ReturnType<TestOverseer['ov']['workspace']>) {
  return { jobs: (await ws.jobs.list()).jobs, events: (await ws.events.list()).events };
}

describe('jobs.submit with a workflow', () => {
  it('resolves a name to its newest version and name@version to that one, and the job keeps it', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    await ws.workflows.put({ yaml: quickV(1) });
    await ws.workflows.put({ yaml: quickV(2) });
    const newest = await ws.jobs.submit({ title: 'newest', workflow: 'quick' });
    const pinned = await ws.jobs.submit({ title: 'pinned', workflow: 'quick@1' });
    expect(newest.workflow).toEqual({ name: 'quick', version: 2 });
    expect(pinned.workflow).toEqual({ name: 'quick', version: 1 });
    // A newer version put later changes no job that exists.
    await ws.workflows.put({ yaml: quickV(3) });
    expect((await ws.jobs.get(newest.id)).workflow).toEqual({ name: 'quick', version: 2 });
    expect((await ws.jobs.submit({ title: 'later', workflow: 'quick' })).workflow).toEqual({
      name: 'quick',
      version: 3,
    });
    // And across a restart.
    const ov = await t.reopen();
    expect((await ov.workspace('acme').jobs.get(pinned.id)).workflow).toEqual({ name: 'quick', version: 1 });
  });

  it('shows workflow: null on a job that names none', async () => {
    t = await openTestOverseer();
    expect((await t.ov.workspace('acme').jobs.submit({ title: 'plain' })).workflow).toBeNull();
  });

  it('answers WORKFLOW_NOT_FOUND for an unknown name or version and creates nothing', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    await ws.workflows.put({ yaml: quickV(1) });
    const before = await everything(ws);
    const unknown = await rejection(ws.jobs.submit({ title: 'x', workflow: 'nope' }));
    expect(unknown).toMatchObject({
      code: 'WORKFLOW_NOT_FOUND',
      details: { workflow: 'nope', versions: [] },
    });
    const version = await rejection(ws.jobs.submit({ title: 'x', workflow: 'quick@9' }));
    expect(version).toMatchObject({
      code: 'WORKFLOW_NOT_FOUND',
      details: { name: 'quick', version: 9, versions: [1] },
    });
    expect(version.message).toContain('has no version 9');
    // One bad job of a batch refuses the whole batch.
    const batch = await rejection(
      ws.jobs.submitMany([
        { title: 'ok', workflow: 'quick' },
        { title: 'bad', workflow: 'quick@2' },
      ]),
    );
    expect(batch.code).toBe('WORKFLOW_NOT_FOUND');
    expect(await everything(ws)).toEqual(before);
    const malformed = await rejection(ws.jobs.submit({ title: 'x', workflow: 'Quick@0' }));
    expect(malformed.code).toBe('VALIDATION_FAILED');
  });

  it('stores the shipped default the first time a job follows it, so the job keeps its content', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme', { principal: { sub: 'ci', workspaceId: 'acme', scopes: ['admin'] } });
    const job = await ws.jobs.submit({ title: 'by default', workflow: 'default' });
    expect(job.workflow).toEqual({ name: 'default', version: 1 });
    const pinned = await ws.workflows.get('default');
    expect(pinned).toMatchObject({ source: 'builtin', putBy: 'ci' });
    expect(typeof pinned.putAt).toBe('number');
    const keys = [
      ...t.ov.runtime.host.store.keys('meta', { start: ['workflow'], end: ['workflow', '\uffff'] }),
    ];
    expect(keys).toEqual([['workflow', 'acme', 'default', 1]]);
    // A second job finds it stored; another workspace still has it unstored.
    await ws.jobs.submit({ title: 'again', workflow: 'default@1' });
    expect((await ws.workflows.get('default')).putAt).toBe(pinned.putAt);
    expect(await t.ov.workspace('other').workflows.get('default')).toMatchObject({ putBy: null });
  });
});

describe('a workstream task with a workflow', () => {
  const definition = (workflow: string) => ({
    schema_version: '2.0.0' as const,
    workstream_id: `def-${workflow}`,
    name: 'with a workflow',
    tasks: [
      { task_id: 'build', name: 'Build', type: 'feature', workflow },
      { task_id: 'docs', name: 'Docs', type: 'docs', dependencies: ['build'] },
    ],
  });

  it("gives the task's job the resolved version", async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    await ws.workflows.put({ yaml: quickV(1) });
    const stream = await ws.workstreams.submit(definition('quick'));
    const jobOf = (taskId: string) => stream.tasks.find((x) => x.taskId === taskId)!.jobId;
    expect((await ws.jobs.get(jobOf('build'))).workflow).toEqual({ name: 'quick', version: 1 });
    expect((await ws.jobs.get(jobOf('docs'))).workflow).toBeNull();
  });

  it('refuses an unknown workflow naming the task, and creates nothing', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const err = await rejection(ws.workstreams.submit(definition('nope@2')));
    expect(err).toMatchObject({
      code: 'WORKFLOW_NOT_FOUND',
      details: { taskId: 'build', workflow: 'nope@2' },
    });
    expect(err.message).toMatch(/^Task build: No workflow nope/);
    expect((await ws.workstreams.list()).workstreams).toEqual([]);
    expect(await everything(ws)).toEqual({ jobs: [], events: [] });
  });
});

describe('execution.workdir', () => {
  let root = '';
  let outside = '';
  beforeEach(() => {
    files = tempDataDir('overseer-workdirs-');
    root = join(files.path, 'roots', 'work');
    outside = join(files.path, 'outside');
    mkdirSync(join(root, 'repo'), { recursive: true });
    mkdirSync(outside, { recursive: true });
  });
  const withRoots = () => openTestOverseer({ workflow: { workdirRoots: [root] } });
  const submit = (workdir: string, workflow?: string) =>
    t!.ov.workspace('acme').jobs.submit({
      title: 'in a tree',
      execution: { workdir },
      ...(workflow ? { workflow } : {}),
    });
  const refusal = async (workdir: string, workflow?: string) => {
    const err = await rejection(submit(workdir, workflow));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details!['issues']).toEqual([
      { path: 'execution.workdir', message: expect.any(String) as string },
    ]);
    return err.message;
  };

  it('is accepted under a root (existing or not yet) and kept as given', async () => {
    t = await withRoots();
    expect((await submit(join(root, 'repo'), 'default')).execution.workdir).toBe(join(root, 'repo'));
    expect((await submit(join(root, 'new', 'tree'))).execution.workdir).toBe(join(root, 'new', 'tree'));
    expect((await submit(root)).execution.workdir).toBe(root);
  });

  it('is refused outside every root, through .., or through a symlink that leaves the root', async () => {
    t = await withRoots();
    expect(await refusal(outside)).toContain('does not lie under workflow.workdirRoots');
    expect(await refusal(`${root}/../../outside`, 'default')).toContain('does not lie under');
    // A sibling whose name starts with the root's is not under it.
    mkdirSync(`${root}-evil`);
    expect(await refusal(`${root}-evil`)).toContain('does not lie under');
    symlinkSync(outside, join(root, 'link'));
    expect(await refusal(join(root, 'link'))).toContain(`(really ${realpathSync(outside)})`);
    // Not yet existing, below a symlink that leaves: resolved through its existing part.
    expect(await refusal(join(root, 'link', 'sub', 'dir'))).toContain('does not lie under');
    expect(await refusal('relative/path')).toContain('absolute');
    expect((await t.ov.workspace('acme').jobs.list()).jobs).toEqual([]);
  });

  it('follows a root that is itself a symlink', async () => {
    const link = join(files!.path, 'roots', 'via-link');
    symlinkSync(root, link);
    t = await openTestOverseer({ workflow: { workdirRoots: [link] } });
    expect((await submit(join(root, 'repo'), 'default')).execution.workdir).toBe(join(root, 'repo'));
    expect((await submit(join(link, 'repo'))).execution.workdir).toBe(join(link, 'repo'));
  });

  it('with no roots configured: refused for a job under a workflow, saying why; free for other jobs', async () => {
    t = await openTestOverseer();
    const message = await refusal(join(root, 'repo'), 'default');
    expect(message).toContain('refused for a job under a workflow');
    expect(message).toContain('no workflow.workdirRoots configured');
    expect((await submit(outside)).execution.workdir).toBe(outside);
    // The refused job pinned nothing either.
    expect(await t.ov.workspace('acme').workflows.get('default')).toMatchObject({ putBy: null });
  });

  it('applies to a task workdir too', async () => {
    t = await withRoots();
    const err = await rejection(
      t.ov.workspace('acme').workstreams.submit({
        schema_version: '2.0.0',
        workstream_id: 'w',
        name: 'w',
        tasks: [{ task_id: 'a', name: 'A', type: 'feature', execution: { workdir: outside } }],
      }),
    );
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', details: { taskId: 'a' } });
  });

  it('refuses a relative root in the config', async () => {
    const err = await rejection(openTestOverseer({ workflow: { workdirRoots: ['relative/root'] } }));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toContain('a workdir root is an absolute path');
  });
});

describe('the built-in migration of jobs from version 2 (no workflow)', () => {
  it('gives a job stored before workflows existed workflow: null', async () => {
    t = await openTestOverseer();
    const job = await t.ov.workspace('acme').jobs.submit({ title: 'old' });
    await t.ov.runtime.host.pipeline.idle();
    const store = t.ov.runtime.host.store;
    const stored = store.get('actors', ['acme', 'job', job.id]) as {
      v: number;
      s: { context: Record<string, unknown> };
    };
    const { workflow: _dropped, ...context } = stored.s.context;
    await store.commit([
      { db: 'actors', key: ['acme', 'job', job.id], value: { v: 2, s: { ...stored.s, context } } },
    ]);
    await store.flushed();
    const ov = await t.reopen();
    expect((await ov.workspace('acme').jobs.get(job.id)).workflow).toBeNull();
    expect((await ov.workspace('acme').jobs.cancel(job.id)).status).toBe('CANCELED');
  });
});
