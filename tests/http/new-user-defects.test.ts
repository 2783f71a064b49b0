/**
 * Issue 14's defects as a new user meets them over HTTP: an array body, unknown query parameters, the missing
 * workstream list, and a workstream id submitted twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestOverseer } from '../support/open.ts';
import { call, definition, freshWs, mint, startServer, type TestServer } from './support.ts';

let s: TestServer;
let ws: string;
let token: string;
beforeAll(async () => {
  s = await startServer();
  ws = freshWs('defects');
  token = await mint({ ws, scopes: ['jobs:read', 'jobs:write', 'queue:work', 'supervisor:read'] });
});
afterAll(() => s.close());

const get = (url: string) => call(s.app, { method: 'GET', url, token });
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(s.app, { method: 'POST', url, token, body, headers });

describe('a new user over HTTP', () => {
  it('is told that an array body must be an object, and nothing is created', async () => {
    const before = (await get('/api/jobs')).json.jobs.length;
    for (const body of [[{ title: 'x' }], 'a job']) {
      const r = await post('/api/jobs', body);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('VALIDATION_FAILED');
      expect(r.json.error.message).toContain('must be a JSON object');
      expect(r.json.error.message).not.toContain('title');
    }
    expect((await get('/api/jobs')).json.jobs.length).toBe(before);
  });

  it('filters jobs by workstreamId and type, and refuses a filter it does not know', async () => {
    const wst = (await post('/api/v1/workstreams', definition())).json;
    await post('/api/jobs', { title: 'loose', type: 'bugfix' });
    const inStream = await get(`/api/jobs?workstreamId=${wst.id}`);
    expect(inStream.status).toBe(200);
    expect(inStream.json.jobs.map((j: { id: string }) => j.id).sort()).toEqual(
      wst.tasks.map((t: { jobId: string }) => t.jobId).sort(),
    );
    const bugs = await get('/api/jobs?type=bugfix');
    expect(bugs.json.jobs.map((j: { title: string }) => j.title)).toEqual(['loose']);
    const unknown = await get('/api/jobs?workstream=abc');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe('VALIDATION_FAILED');
    expect(unknown.json.error.details.issues[0].message).toContain('workstream');
    for (const url of ['/api/v1/workers?state=IDLE', '/api/v1/events?after=3', '/api/v1/workstreams?state=x'])
      expect((await get(url)).json.error.code, url).toBe('VALIDATION_FAILED');
  });

  it('refuses a query parameter on a route that reads none, and keeps the ones routes read', async () => {
    const job = (await post('/api/jobs', { title: 'one' })).json;
    const stray = await get(`/api/jobs/${job.id}?verbose=true`);
    expect(stray.status).toBe(400);
    expect(stray.json.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ path: 'verbose' }] },
    });
    expect((await post('/api/jobs?dryRun=1', { title: 'not made' })).status).toBe(400);
    expect((await get('/api/jobs')).json.jobs.some((j: { title: string }) => j.title === 'not made')).toBe(
      false,
    );
    expect((await get(`/api/jobs/${job.id}`)).status).toBe(200);
    expect((await post('/api/v1/workstreams?start=false', definition())).json.status).toBe('READY');
    const admin = await mint({ ws: 'other', scopes: ['admin'] });
    const asAdmin = await call(s.app, {
      method: 'GET',
      url: `/api/jobs/${job.id}?workspaceId=${ws}`,
      token: admin,
    });
    expect(asAdmin.status).toBe(200);
  });

  it('lists workstreams, filtered by status', async () => {
    const other = freshWs('wst-list');
    const own = await mint({ ws: other, scopes: ['jobs:read', 'jobs:write'] });
    const submit = (start: boolean) =>
      call(s.app, {
        method: 'POST',
        url: `/api/v1/workstreams${start ? '' : '?start=false'}`,
        token: own,
        body: definition(),
      });
    const a = (await submit(false)).json;
    const b = (await submit(true)).json;
    const all = await call(s.app, { method: 'GET', url: '/api/v1/workstreams', token: own });
    expect(all.status).toBe(200);
    expect(all.json.nextCursor).toBeNull();
    expect(all.json.workstreams.map((w: { id: string }) => w.id)).toEqual([a.id, b.id]);
    const ready = await call(s.app, { method: 'GET', url: '/api/v1/workstreams?status=READY', token: own });
    expect(ready.json.workstreams.map((w: { id: string }) => w.id)).toEqual([a.id]);
  });

  it('refuses a workstream_id submitted twice with 409 ALREADY_EXISTS, unless the same idempotency key replays it', async () => {
    const def = definition();
    const key = { 'idempotency-key': `wst-${def.workstream_id}` };
    const first = await post('/api/v1/workstreams', def, key);
    expect(first.status).toBe(201);
    const replay = await post('/api/v1/workstreams', def, key);
    expect(replay.status).toBe(201);
    expect(replay.json).toEqual(first.json);
    const again = await post('/api/v1/workstreams', def);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({
      code: 'ALREADY_EXISTS',
      details: { workstreamId: first.json.id, definitionId: def.workstream_id },
    });
    const listed = (await get('/api/v1/workstreams')).json.workstreams;
    expect(listed.filter((w: { definitionId: string }) => w.definitionId === def.workstream_id)).toHaveLength(
      1,
    );
  });
});

describe('a workstream id survives a restart', () => {
  it('is still refused after the runtime restarts on the same data dir', async () => {
    const t = await openTestOverseer();
    const def = definition();
    await t.ov.workspace('acme').workstreams.submit(def);
    await t.reopen();
    await expect(t.ov.workspace('acme').workstreams.submit(def)).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    await t.cleanup();
  });
});
