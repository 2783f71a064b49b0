/**
 * The workflow registry (issue 16): versions put per workspace and never changed, the shipped `default` present in
 * every workspace, the config's `workflow.defaultFile`, problems with their line and column.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_WORKFLOW_YAML } from '../../src/api/commands/workflows.ts';
import { createOverseer } from '../../src/index.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';
import { ROOT } from '../../scripts/gen.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

const SHIPPED = readFileSync(join(ROOT, 'workflows', 'default.yaml'), 'utf8');
/** The example with another version and description. */
const quickV = (version: number, description = 'Plan, then build.') =>
  EXAMPLE_WORKFLOW_YAML.replace('version: 1', `version: ${version}`).replace(
    /^description: .*$/m,
    `description: ${description}`,
  );

let t: TestOverseer | undefined;
let dir: TempDataDir | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
  dir?.remove();
  dir = undefined;
});

describe('workflows.put, get and list', () => {
  it('registers versions, answers the newest by default and any version by number', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme', { principal: { sub: 'ops', workspaceId: 'acme', scopes: ['admin'] } });
    const v1 = await ws.workflows.put({ yaml: quickV(1) });
    expect(v1).toMatchObject({
      workspaceId: 'acme',
      name: 'quick',
      version: 1,
      source: 'workspace',
      putBy: 'ops',
      yaml: quickV(1),
      schemas: {},
    });
    expect(v1.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.workflow.phases.map((p) => p.id)).toEqual(['PLAN', 'BUILD', 'DONE']);
    const v2 = await ws.workflows.put({ yaml: quickV(2, 'Second take.') });
    expect(v2.digest).not.toBe(v1.digest);
    expect((await ws.workflows.get('quick')).version).toBe(2);
    expect((await ws.workflows.get('quick', 1)).workflow.description).toBe('Plan, then build.');
    expect(await ws.workflows.list()).toEqual([
      expect.objectContaining({ name: 'default', versions: [1], latest: 1 }),
      { name: 'quick', versions: [1, 2], latest: 2, description: 'Second take.' },
    ]);
    expect((await rejection(ws.workflows.get('quick', 3))).code).toBe('WORKFLOW_NOT_FOUND');
    expect((await rejection(ws.workflows.get('nope'))).code).toBe('WORKFLOW_NOT_FOUND');
  });

  it('never changes a version: other content is ALREADY_EXISTS, the same content answers the stored one', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const first = await ws.workflows.put({ yaml: quickV(1) });
    const err = await rejection(ws.workflows.put({ yaml: quickV(1, 'Something else.') }));
    expect(err.code).toBe('ALREADY_EXISTS');
    expect(err.details).toMatchObject({ name: 'quick', version: 1, digest: first.digest });
    expect(err.message).toContain('put it as version 2');
    // The same workflow written otherwise (a comment, flow style, defaults spelled out) is the same content.
    const same = `# the same workflow, reformatted\nenforcement: strict\n${quickV(1).replace('artifacts: [plan]', 'artifacts:\n      - plan')}`;
    const again = await ws.workflows.put({ yaml: same });
    expect(again).toEqual(first);
    // As JSON, too: the stored version (with its first text) is the answer.
    expect(await ws.workflows.put({ workflow: first.workflow })).toEqual(first);
    expect((await ws.workflows.get('quick', 1)).workflow.description).toBe('Plan, then build.');
  });

  it('keeps versions across a restart, per workspace', async () => {
    t = await openTestOverseer();
    const stored = await t.ov.workspace('acme').workflows.put({ yaml: quickV(1) });
    const ov = await t.reopen();
    expect(await ov.workspace('acme').workflows.get('quick')).toEqual(stored);
    expect((await rejection(ov.workspace('other').workflows.get('quick'))).code).toBe('WORKFLOW_NOT_FOUND');
    expect((await ov.workspace('other').workflows.list()).map((w) => w.name)).toEqual(['default']);
  });

  it('lists every problem of a YAML text with its line and column, and stores nothing', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const bad = `name: bad
version: 1
phases:
  - id: PLAN
    artifacts: [plan, design]
  - id: DONE
    final: true
transitions:
  - from: PLAN
    to: NOWHERE
    gates: [looks_good]
`;
    const err = await rejection(ws.workflows.put({ yaml: bad }));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details!['source']).toBe('yaml');
    expect(err.details!['issues']).toEqual(
      [
        {
          line: 5,
          column: 23,
          path: 'phases[0].artifacts[1]',
          message: expect.stringContaining('artifact design has no schema') as string,
        },
        {
          line: 11,
          column: 13,
          path: 'transitions[0].gates[0]',
          message: expect.stringContaining('unknown gate') as string,
        },
        { line: 10, column: 9, path: 'transitions[0].to', message: 'unknown phase NOWHERE' },
      ].sort((a, b) => a.line - b.line),
    );
    expect(err.message).toMatch(/^Invalid workflow \(3 problem\(s\)\): 5:23 phases\[0\]\.artifacts\[1\]: /);
    const syntax = await rejection(ws.workflows.put({ yaml: 'name: [unclosed\n' }));
    expect(syntax.code).toBe('VALIDATION_FAILED');
    expect((syntax.details!['issues'] as { line: number }[])[0]!.line).toBeGreaterThan(0);
    expect((await ws.workflows.list()).map((w) => w.name)).toEqual(['default']);
  });

  it('lists the problems of a JSON workflow by path, and takes exactly one of yaml and workflow', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const err = await rejection(
      ws.workflows.put({
        workflow: { name: 'j', version: 1, phases: [{ id: 'A', final: true }, { id: 'B' }], extra: 1 },
      }),
    );
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.details).toMatchObject({ source: 'workflow' });
    expect(err.details!['issues']).toEqual(
      expect.arrayContaining([{ path: 'extra', message: expect.stringContaining('extra') as string }]),
    );
    const graph = await rejection(
      ws.workflows.put({
        workflow: { name: 'j', version: 1, phases: [{ id: 'A', final: true }, { id: 'B' }] },
      }),
    );
    expect(graph.details!['issues']).toEqual([
      { path: 'phases[1].id', message: 'phase B cannot be reached from A' },
    ]);
    for (const input of [{}, { yaml: quickV(1), workflow: { name: 'x' } }])
      expect((await rejection(ws.workflows.put(input))).code).toBe('VALIDATION_FAILED');
  });

  it('takes the artifact schema files a workflow names as documents, and refuses missing or unusable ones', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const yaml = `${quickV(1).replace('artifacts: [implementation]', 'artifacts: [implementation, notes]')}artifact_schemas:\n  notes: schemas/notes.json\n`;
    const notes = { type: 'object', required: ['text'], properties: { text: { type: 'string' } } };
    const missing = await rejection(ws.workflows.put({ yaml }));
    expect(missing.details!['issues']).toEqual([
      expect.objectContaining({
        path: 'artifact_schemas.notes',
        message:
          'schemas/notes.json: not sent: give its JSON Schema document in schemas["schemas/notes.json"]',
      }),
    ]);
    const broken = await rejection(
      ws.workflows.put({ yaml, schemas: { 'schemas/notes.json': { type: 12 } } }),
    );
    expect(broken.details!['issues']).toEqual([
      expect.objectContaining({ message: expect.stringContaining('not a valid JSON Schema') as string }),
    ]);
    const stray = await rejection(
      ws.workflows.put({ yaml, schemas: { 'schemas/notes.json': notes, 'other.json': notes } }),
    );
    expect(stray.details!['issues']).toEqual([
      { path: 'schemas["other.json"]', message: 'artifact_schemas names no such file' },
    ]);
    const put = await ws.workflows.put({ yaml, schemas: { 'schemas/notes.json': notes } });
    expect(put.schemas).toEqual({ 'schemas/notes.json': notes });
    // The schema documents are part of the content: another document is another content.
    const other = { ...notes, required: [] };
    expect((await rejection(ws.workflows.put({ yaml, schemas: { 'schemas/notes.json': other } }))).code).toBe(
      'ALREADY_EXISTS',
    );
  });
});

describe('the shipped default workflow', () => {
  it('is registered in a fresh workspace without being stored', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('fresh');
    const found = await ws.workflows.get('default');
    expect(found).toMatchObject({
      workspaceId: 'fresh',
      name: 'default',
      version: 1,
      source: 'builtin',
      putBy: null,
      putAt: null,
      yaml: SHIPPED,
    });
    expect(found.workflow.phases.map((p) => p.id)).toEqual(['PLAN', 'TDD', 'IMPL', 'REVIEW', 'COMPLETE']);
    const stored = [
      ...t.ov.runtime.host.store.keys('meta', { start: ['workflow'], end: ['workflow', '\uffff'] }),
    ];
    expect(stored).toEqual([]);
  });

  it('takes newer versions of default put in the workspace on top; its own version never changes', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const shipped = await ws.workflows.get('default');
    // Putting the shipped content again answers it; other content under its version is refused.
    expect(await ws.workflows.put({ yaml: SHIPPED })).toEqual(shipped);
    const changed = SHIPPED.replace('max_review_rounds: 3', 'max_review_rounds: 5');
    expect((await rejection(ws.workflows.put({ yaml: changed }))).code).toBe('ALREADY_EXISTS');
    const v2 = await ws.workflows.put({ yaml: changed.replace('version: 1', 'version: 2') });
    expect(v2).toMatchObject({ name: 'default', version: 2, source: 'workspace' });
    expect(await ws.workflows.get('default')).toEqual(v2);
    expect((await ws.workflows.list())[0]).toMatchObject({ name: 'default', versions: [1, 2], latest: 2 });
    // Another workspace still has only the shipped one.
    expect(await t.ov.workspace('other').workflows.get('default')).toMatchObject({
      version: 1,
      source: 'builtin',
    });
  });
});

describe('config: workflow.defaultFile', () => {
  const start = (defaultFile: string) =>
    createOverseer({ dataDir: dir!.path, logLevel: 'silent', workflow: { defaultFile } });

  it('names another file for default, read with the schema files it names', async () => {
    dir = tempDataDir();
    const files = join(dir.path, 'files');
    mkdirSync(join(files, 'schemas'), { recursive: true });
    writeFileSync(join(files, 'schemas', 'notes.json'), JSON.stringify({ type: 'object' }));
    const text = `${quickV(7).replace('name: quick', 'name: default').replace('artifacts: [implementation]', 'artifacts: [implementation, notes]')}artifact_schemas:\n  notes: schemas/notes.json\n`;
    writeFileSync(join(files, 'ours.yaml'), text);
    const ov = await start(join(files, 'ours.yaml'));
    try {
      const found = await ov.workspace('acme').workflows.get('default');
      expect(found).toMatchObject({ version: 7, source: 'builtin', yaml: text });
      expect(found.schemas).toEqual({ 'schemas/notes.json': { type: 'object' } });
      expect((await ov.workspace('acme').workflows.list()).map((w) => w.versions)).toEqual([[7]]);
    } finally {
      await ov.close();
    }
  });

  it('refuses to start on a file with problems (line and column), another name, or none', async () => {
    dir = tempDataDir();
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'name: default\nversion: 1\nphases:\n  - id: A\n    final: maybe\n');
    const err = await rejection(start(bad));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toContain(`${bad}:5:12: phases[0].final:`);
    const named = join(dir.path, 'named.yaml');
    writeFileSync(named, EXAMPLE_WORKFLOW_YAML);
    expect((await rejection(start(named))).message).toContain(
      'its name is quick; the default workflow is named default',
    );
    expect((await rejection(start(join(dir.path, 'absent.yaml')))).message).toContain(
      'cannot read it (ENOENT)',
    );
    // Nothing was opened: the data dir is free for a runtime with a good config.
    const ov = await createOverseer({ dataDir: dir.path, logLevel: 'silent' });
    await ov.close();
  });
});
