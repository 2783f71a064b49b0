import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freshWs, mint, startServer, type TestServer } from './support.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});

type WorkerPage = { workers: { id: string; status: string; lastHeartbeatAt: number }[] };

describe('shared list reads', () => {
  it('answer every change that is durable, through HTTP, at once (read your writes)', async () => {
    const ws = freshWs();
    const token = await mint({ ws, scopes: ['supervisor:read', 'supervisor:write', 'queue:work'] });
    const list = async () =>
      (await call(s.app, { method: 'GET', url: '/api/supervisor/workers', token })).json as WorkerPage;
    expect((await list()).workers).toEqual([]);
    expect(await list()).toEqual({ workers: [], nextCursor: null });
    const reg = await call(s.app, { method: 'POST', url: '/api/v1/workers', token, body: { name: 'w' } });
    const id = (reg.json as { id: string }).id;
    expect((await list()).workers.map((w) => w.id)).toEqual([id]);
    await call(s.app, { method: 'POST', url: `/api/supervisor/workers/${id}/pause`, token });
    expect((await list()).workers[0]!.status).toBe('PAUSED');
    const before = (await list()).workers[0]!.lastHeartbeatAt;
    await new Promise((resolve) => setTimeout(resolve, 5));
    // A heartbeat writes no journal record but changes the worker: the next read shows it.
    await call(s.app, { method: 'POST', url: `/api/v1/workers/${id}/heartbeat`, token, body: {} });
    expect((await list()).workers[0]!.lastHeartbeatAt).toBeGreaterThan(before);
    // A change made through the library shows too.
    await s.client(ws).workers.resume(id);
    expect((await list()).workers[0]!.status).not.toBe('PAUSED');
  });

  it('keeps filters and pages apart, and gives library callers objects of their own', async () => {
    const ws = freshWs();
    const token = await mint({ ws, scopes: ['jobs:read', 'jobs:write'] });
    for (const title of ['a', 'b', 'c'])
      await call(s.app, { method: 'POST', url: '/api/jobs', token, body: { title, hold: title === 'b' } });
    const get = async (query: Record<string, string>) =>
      (await call(s.app, { method: 'GET', url: '/api/jobs', token, query })).json as {
        jobs: { title: string }[];
        nextCursor: string | null;
      };
    expect((await get({})).jobs.map((j) => j.title)).toEqual(['a', 'b', 'c']);
    expect((await get({ status: 'SUBMITTED' })).jobs.map((j) => j.title)).toEqual(['b']);
    const first = await get({ limit: '2' });
    expect(first.jobs.map((j) => j.title)).toEqual(['a', 'b']);
    expect((await get({ limit: '2', cursor: first.nextCursor! })).jobs.map((j) => j.title)).toEqual(['c']);
    const lib = await s.client(ws).jobs.list();
    lib.jobs.pop();
    expect((await s.client(ws).jobs.list()).jobs).toHaveLength(3);
    expect((await get({})).jobs).toHaveLength(3);
  });
});
