// The workflow registry over HTTP (issue 16): admin only, problems with line and column, versions by query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_WORKFLOW_YAML } from '../../src/api/commands/workflows.ts';
import { ROLES, type Role } from '../../src/contracts/scopes.ts';
import { call, expectEnvelope, freshWs, mint, startServer, type TestServer } from './support.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});

const put = (token: string, body: unknown) =>
  call(s.app, { method: 'POST', url: '/api/v1/workflows', token, body });
const get = (token: string, url: string, query?: Record<string, string>) =>
  call(s.app, { method: 'GET', url, token, ...(query ? { query } : {}) });

describe('/api/v1/workflows', () => {
  it('is for admins: every role but admin gets 403 on put, get and list', async () => {
    const ws = freshWs();
    for (const role of Object.keys(ROLES).filter((r) => r !== 'admin') as Role[]) {
      const token = await mint({ ws, scopes: ROLES[role] });
      expectEnvelope(await put(token, { yaml: EXAMPLE_WORKFLOW_YAML }), 403, 'INSUFFICIENT_SCOPE');
      expectEnvelope(await get(token, '/api/v1/workflows'), 403, 'INSUFFICIENT_SCOPE');
      expectEnvelope(await get(token, '/api/v1/workflows/default'), 403, 'INSUFFICIENT_SCOPE');
    }
    for (const scopes of [['admin'], ['workflows:admin']] as const) {
      const token = await mint({ ws, scopes });
      expect((await get(token, '/api/v1/workflows/default')).status).toBe(200);
    }
  });

  it('registers a version (201), answers the same content again, refuses other content under it (409)', async () => {
    const ws = freshWs();
    const token = await mint({ ws, scopes: ['workflows:admin'] });
    const first = await put(token, { yaml: EXAMPLE_WORKFLOW_YAML });
    expect(first.status, first.text).toBe(201);
    expect(first.json).toMatchObject({ workspaceId: ws, name: 'quick', version: 1, putBy: 'tester' });
    const again = await put(token, { workflow: first.json.workflow });
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    const other = await put(token, {
      yaml: EXAMPLE_WORKFLOW_YAML.replace('final: true', 'final: true\n    description: x'),
    });
    expectEnvelope(other, 409, 'ALREADY_EXISTS');
    await put(token, { yaml: EXAMPLE_WORKFLOW_YAML.replace('version: 1', 'version: 2') });
    expect((await get(token, '/api/v1/workflows/quick')).json.version).toBe(2);
    expect((await get(token, '/api/v1/workflows/quick', { version: '1' })).json.digest).toBe(
      first.json.digest,
    );
    const list = await get(token, '/api/v1/workflows');
    expect(
      list.json.workflows.map((w: { name: string; versions: number[] }) => [w.name, w.versions]),
    ).toEqual([
      ['default', [1]],
      ['quick', [1, 2]],
    ]);
  });

  it('answers 400 with every problem and its line and column, 404 WORKFLOW_NOT_FOUND, 400 for a bad query', async () => {
    const ws = freshWs();
    const token = await mint({ ws, scopes: ['workflows:admin'] });
    const bad = await put(token, {
      yaml: EXAMPLE_WORKFLOW_YAML.replace('[all_tests_pass]', '[all_test_pass]'),
    });
    expectEnvelope(bad, 400, 'VALIDATION_FAILED');
    expect(bad.json.error.details).toEqual({
      source: 'yaml',
      issues: [
        {
          line: 17,
          column: 13,
          path: 'transitions[1].gates[0]',
          message: expect.stringContaining('unknown gate') as string,
        },
      ],
    });
    expect(bad.json.error.message).toContain('17:13 transitions[1].gates[0]: unknown gate');
    // A phase graph with several problems: each is listed with its own place.
    const graph = await put(token, { yaml: EXAMPLE_WORKFLOW_YAML.replace('to: DONE', 'to: DOEN') });
    expect(graph.json.error.details.issues).toEqual([
      { line: 5, column: 9, path: 'phases[0].id', message: 'no path from phase PLAN to a final phase' },
      { line: 7, column: 9, path: 'phases[1].id', message: 'no path from phase BUILD to a final phase' },
      { line: 9, column: 9, path: 'phases[2].id', message: 'phase DONE cannot be reached from PLAN' },
      { line: 16, column: 9, path: 'transitions[1].to', message: 'unknown phase DOEN' },
    ]);
    expectEnvelope(await get(token, '/api/v1/workflows/quick'), 404, 'WORKFLOW_NOT_FOUND');
    expectEnvelope(
      await get(token, '/api/v1/workflows/default', { version: '2' }),
      404,
      'WORKFLOW_NOT_FOUND',
    );
    expectEnvelope(
      await get(token, '/api/v1/workflows/default', { version: 'one' }),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(await get(token, '/api/v1/workflows/default', { other: '1' }), 400, 'VALIDATION_FAILED');
  });

  it('lets a job opt in over HTTP; an unknown workflow is 404 and creates nothing', async () => {
    const ws = freshWs();
    const token = await mint({ ws, scopes: ['jobs:write', 'jobs:read'] });
    const submit = (workflow: string) =>
      call(s.app, { method: 'POST', url: '/api/v1/tasks', token, body: { title: 'x', workflow } });
    const ok = await submit('default');
    expect(ok.status, ok.text).toBe(201);
    expect(ok.json.workflow).toEqual({ name: 'default', version: 1 });
    expectEnvelope(await submit('default@2'), 404, 'WORKFLOW_NOT_FOUND');
    const jobs = await call(s.app, { method: 'GET', url: '/api/v1/tasks', token });
    expect(jobs.json.jobs.map((j: { id: string }) => j.id)).toEqual([ok.json.id]);
  });
});
