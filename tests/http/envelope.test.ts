/**
 * The error envelope on every path (404, 405, 413, 415, invalid JSON, validation), the per-token rate limit,
 * Idempotency-Key on every mutating route, server-owned fields, and seeded random malformed requests.
 */
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandTable } from '../../src/api/commands.ts';
import { loadServerConfig } from '../../src/cli/config.ts';
import { ServerConfigSchema } from '../../src/contracts/server-config.ts';
import { RateLimiter } from '../../src/http/rate-limit.ts';
import { routes, type Route } from '../../src/http/routes.ts';
import { BODY_LIMIT } from '../../src/http/server.ts';
import {
  ALL_SCOPES,
  NON_ADMIN_SCOPES,
  call,
  callOf,
  definition,
  expectEnvelope,
  fixtures,
  freshWs,
  leaksInternals,
  mint,
  routeKey,
  startServer,
  urlOf,
  type Call,
  type Method,
  type Reply,
  type TestServer,
} from './support.ts';

const bodyRoutes = routes.filter((r) => r.method === 'POST' || r.method === 'PATCH');
/** Routes only a phase token opens take it, not an API token: tests/workflow/transition.test.ts covers them. */
const tokenOnly = (r: Route) => {
  const tokens = commandTable.get(r.command)!.tokens;
  // workflow.evidence opens to the lease holder's own credential only: tests/workflow/evidence.test.ts.
  return (tokens !== undefined && tokens.apiTokens !== true) || r.command === 'workflow.evidence';
};
const mutating = routes.filter((r) => r.method !== 'GET' && !tokenOnly(r));
const scopesOf = (r: Route) => commandTable.get(r.command)!.scopes;
const okStatus = (r: Route) => r.status ?? 200;

let s: TestServer;
let all: string; // every non-admin scope, workspace `env`
beforeAll(async () => {
  s = await startServer();
  all = await mint({ ws: 'env', scopes: NON_ADMIN_SCOPES });
});
afterAll(async () => {
  await s?.close();
});

/** Whether a concrete path matches a route template. */
const matches = (template: string, path: string) => {
  const t = template.split('/');
  const p = path.split('/');
  return t.length === p.length && t.every((seg, i) => seg.startsWith(':') || seg === p[i]);
};

describe('unknown routes: 404 NOT_FOUND', () => {
  const unknown: [Method, string][] = [
    ['GET', '/nope'],
    ['GET', '/api'],
    ['GET', '/api/nope'],
    ['GET', '/api/v2/jobs'],
    ['POST', '/api/v1/nothing'],
    ['DELETE', '/api/jobs/x/y/z'],
    ['GET', '/api/jobs/x/cancel/more'],
    ['PATCH', '/%F0%9F%92%A5'],
  ];
  for (const [method, url] of unknown) {
    it(`${method} ${url}`, async () => {
      for (const token of [undefined, all, 'garbage']) {
        const res = await call(s.app, { method, url, token });
        expectEnvelope(res, 404, 'NOT_FOUND');
      }
    });
  }
});

describe('known path, wrong method: 405 METHOD_NOT_ALLOWED with Allow', () => {
  const urls = [...new Set(routes.map((r) => urlOf(r)))];
  for (const url of urls) {
    const allowed = [...new Set(routes.filter((r) => matches(r.path, url)).map((r) => r.method))];
    const wrong = (['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS'] as const).filter(
      (m) => !(allowed as string[]).includes(m),
    );
    it(`${url}: ${wrong.join(', ')} (allowed ${allowed.join(', ')})`, async () => {
      for (const method of wrong) {
        const res = await call(s.app, { method, url, token: all });
        expectEnvelope(res, 405, 'METHOD_NOT_ALLOWED');
        const allow = String(res.headers['allow']).split(/,\s*/).sort();
        expect(allow, `${method} ${url}`).toEqual([...allowed].sort());
        expect([...(res.json.error.details.allowed as string[])].sort()).toEqual([...allowed].sort());
      }
    });
  }

  it('a public path with the wrong method answers 405 (not 404)', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']) {
      const res = await call(s.app, { method: 'POST', url, body: {} });
      expectEnvelope(res, 405, 'METHOD_NOT_ALLOWED');
      expect(res.headers['allow'], url).toMatch(/GET/);
    }
  });

  it('a trailing slash does not answer 405 refusing the very method it allows', async () => {
    // Today `pathPattern` accepts a trailing slash, Fastify does not: POST /api/v1/queue/claim/ answers
    // 405 "POST is not allowed on /api/v1/queue/claim/; use POST." with Allow: POST.
    const wrong: string[] = [];
    for (const route of routes.filter((r) => !r.path.endsWith(':id'))) {
      const url = `${urlOf(route)}/`;
      const res = await call(s.app, {
        method: route.method,
        url,
        token: all,
        ...(route.method === 'GET' ? {} : { body: {} }),
      });
      expect(res.status, url).toBeLessThan(500);
      expectEnvelope(res);
      if (res.status === 405 && String(res.headers['allow']).split(/,\s*/).includes(route.method))
        wrong.push(`${route.method} ${url}`);
    }
    expect(wrong).toEqual([]);
  });

  it("a malformed percent-encoding in the path answers the envelope (not Fastify's FST_ERR_BAD_URL body)", async () => {
    // Today: 400 {"error":"Bad Request","code":"FST_ERR_BAD_URL","message":"'/api/jobs/%zz' is not a valid url component","statusCode":400}
    for (const url of ['/api/jobs/%zz', '/api/v1/workers/%', '/nope/%E0%A4%A']) {
      const res = await call(s.app, { method: 'GET', url, token: all });
      expectEnvelope(res, 400, 'VALIDATION_FAILED');
    }
  });
});

describe('long path ids', () => {
  it('a path id over 100 characters answers the envelope (not 414 FST_ERR_MAX_PARAM_LENGTH)', async () => {
    // Ids may be 128 characters (IdSchema), but Fastify's maxParamLength (100) answers first, with its own body:
    // 414 {"error":"Bad Request","code":"FST_ERR_MAX_PARAM_LENGTH","message":"'/api/jobs/aaa…' is not a valid url component","statusCode":414}
    const within = await call(s.app, { method: 'GET', url: `/api/jobs/${'a'.repeat(128)}`, token: all });
    expectEnvelope(within, 404, 'NOT_FOUND'); // a valid id that names nothing
    const over = await call(s.app, { method: 'GET', url: `/api/jobs/${'a'.repeat(2000)}`, token: all });
    expectEnvelope(over, 400, 'VALIDATION_FAILED');
  });

  it('a list cursor longer than an id answers VALIDATION_FAILED, not a 500 from the store', async () => {
    // A cursor is the id of the last item of a page; one past LMDB's key size used to throw in the range scan.
    for (const url of ['/api/jobs', '/api/supervisor/workers']) {
      const over = await call(s.app, {
        method: 'GET',
        url: `${url}?cursor=${'b'.repeat(20_000)}`,
        token: all,
      });
      expectEnvelope(over, 400, 'VALIDATION_FAILED');
      const within = await call(s.app, {
        method: 'GET',
        url: `${url}?cursor=${'b'.repeat(128)}`,
        token: all,
      });
      expect(within.status, url).toBe(200);
    }
  });

  it('a path id of 100 characters is a plain 404', async () => {
    expectEnvelope(
      await call(s.app, { method: 'GET', url: `/api/jobs/${'a'.repeat(100)}`, token: all }),
      404,
    );
  });
});

describe('bodies', () => {
  for (const route of bodyRoutes) {
    it(`${routeKey(route)}: 413 over 512 KiB, 415 not JSON, 400 invalid JSON, empty JSON is no body`, async () => {
      const base = { method: route.method, url: urlOf(route), token: all };
      const big = JSON.stringify({ title: 'x', description: 'a'.repeat(BODY_LIMIT) });
      expectEnvelope(
        await call(s.app, { ...base, payload: big, headers: { 'content-type': 'application/json' } }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      for (const type of [
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
      ])
        expectEnvelope(
          await call(s.app, { ...base, payload: '{"title":"x"}', headers: { 'content-type': type } }),
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        );
      for (const payload of ['{', '{"title":', "{'title':'x'}", 'undefined', '{"a":1}}', '\u0000'])
        expectEnvelope(
          await call(s.app, { ...base, payload, headers: { 'content-type': 'application/json' } }),
          400,
          'VALIDATION_FAILED',
        );
      // Both answers are errors here (the path's ids name nothing), so neither changes state.
      const empty = await call(s.app, {
        ...base,
        payload: '',
        headers: { 'content-type': 'application/json' },
      });
      const none = await call(s.app, base);
      expect(empty.status).toBe(none.status);
      expect(empty.json.error?.code).toBe(none.json.error?.code);
      expect(empty.json.error?.code).not.toBeUndefined();
    });
  }

  it('a body just under 512 KiB is parsed (and then validated), not refused as too large', async () => {
    const payload = JSON.stringify({ title: 'x', metadata: { pad: 'a'.repeat(BODY_LIMIT - 100) } });
    expect(payload.length).toBeLessThanOrEqual(BODY_LIMIT);
    const res = await call(s.app, {
      method: 'POST',
      url: '/api/jobs',
      token: all,
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expectEnvelope(res, 400, 'VALIDATION_FAILED'); // metadata is at most 64 KiB
    expect(JSON.stringify(res.json.error.details)).toContain('metadata');
  });

  it('413 for a large body without a token as well (read before any route runs)', async () => {
    const res = await call(s.app, {
      method: 'POST',
      url: '/api/jobs',
      payload: 'x'.repeat(BODY_LIMIT + 1),
      headers: { 'content-type': 'application/json' },
    });
    expectEnvelope(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('prototype poisoning is refused', async () => {
    for (const payload of [
      '{"title":"x","__proto__":{"admin":true}}',
      '{"title":"x","constructor":{"prototype":{"a":1}}}',
    ]) {
      const res = await call(s.app, {
        method: 'POST',
        url: '/api/jobs',
        token: all,
        payload,
        headers: { 'content-type': 'application/json' },
      });
      expectEnvelope(res, 400, 'VALIDATION_FAILED');
    }
  });

  it('a command without input takes an empty body sent as JSON (curl with a JSON content type, no -d)', async () => {
    const worker = await s.client('env').workers.register({ name: 'empty-body' });
    const headers = { 'content-type': 'application/json' };
    for (const action of ['pause', 'resume']) {
      const res = await call(s.app, {
        method: 'POST',
        url: `/api/supervisor/workers/${worker.id}/${action}`,
        token: all,
        payload: '',
        headers,
      });
      expect(res.status, res.text).toBe(200);
    }
    expect((await s.client('env').workers.get(worker.id)).status).toBe('IDLE');
  });

  it('non-object JSON bodies are validation failures', async () => {
    for (const route of bodyRoutes) {
      for (const body of [[], 'str', 42, null, true, [{ title: 'x' }]]) {
        const res = await call(s.app, { method: route.method, url: urlOf(route), token: all, body });
        expect(res.status, `${routeKey(route)} ${JSON.stringify(body)} ${res.text}`).toBeLessThan(500);
        if (res.status >= 400) expectEnvelope(res);
      }
    }
  });
});

describe('deeply nested JSON', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('deeply nested free JSON (metadata, result, validation_rules) answers 4xx, never 5xx', async () => {
    // Today: 2,000 levels (a 4 KB body) overflow msgpackr's stack when the batch is written → 503
    // STORAGE_UNAVAILABLE ("retry with the same idempotency key", which fails again); 10,000 levels overflow
    // earlier → 500 INTERNAL.
    const job = await s.client('env').jobs.submit({ title: 'x' });
    const failures: string[] = [];
    for (const depth of [2_000, 10_000]) {
      const cases: [string, string][] = [
        ['/api/jobs', `{"title":"deep","metadata":{"a":${nested(depth)}}}`],
        [
          '/api/v1/workstreams',
          JSON.stringify({
            ...definition(),
            tasks: [{ task_id: 'a', name: 'A', type: 'x', validation_rules: 0 }],
          }).replace('"validation_rules":0', `"validation_rules":${nested(depth)}`),
        ],
        [`/api/v1/tasks/${job.id}`, `{"title":"t","description":"d","extra":${nested(depth)}}`],
      ];
      for (const [url, payload] of cases) {
        const res = await call(s.app, {
          method: url.startsWith('/api/v1/tasks/') ? 'PATCH' : 'POST',
          url,
          token: all,
          payload,
          headers: { 'content-type': 'application/json' },
        });
        if (res.status >= 500)
          failures.push(`${depth} levels, ${url}: ${res.status} ${res.json?.error?.code}`);
        else if (res.status >= 400) expectEnvelope(res);
      }
    }
    expect(failures).toEqual([]);
  });

  it('one over-nested request does not fail an innocent request committed in the same batch', async () => {
    // Today the innocent job fails with 503 STORAGE_UNAVAILABLE together with the deep one.
    const deep = call(s.app, {
      method: 'POST',
      url: '/api/jobs',
      token: all,
      payload: `{"title":"deep","metadata":{"a":${nested(2_000)}}}`,
      headers: { 'content-type': 'application/json' },
    });
    const innocent = call(s.app, {
      method: 'POST',
      url: '/api/jobs',
      token: all,
      body: { title: 'innocent' },
    });
    const [, ok] = await Promise.all([deep, innocent]);
    expect(ok.status, ok.text).toBe(201);
  });

  it('200 levels are fine', async () => {
    const res = await call(s.app, {
      method: 'POST',
      url: '/api/jobs',
      token: all,
      payload: `{"title":"nested","metadata":{"a":${nested(200)}}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status, res.text).toBe(201);
  });
});

describe('validation failures name the paths', () => {
  it('POST /api/jobs names every bad field', async () => {
    const res = await call(s.app, {
      method: 'POST',
      url: '/api/jobs',
      token: all,
      body: { title: 5, priority: 'urgent', resources: [{ name: '', count: 0 }], dependsOn: 'x' },
    });
    expectEnvelope(res, 400, 'VALIDATION_FAILED');
    const paths = (res.json.error.details.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(['title', 'priority', 'resources.0.name', 'resources.0.count', 'dependsOn']),
    );
    expect(res.json.error.message).toContain('title');
  });

  it('query parameters, PATCH bodies and workstream definitions', async () => {
    const limit = await call(s.app, { method: 'GET', url: '/api/jobs', token: all, query: { limit: '0' } });
    expectEnvelope(limit, 400, 'VALIDATION_FAILED');
    expect(limit.json.error.details.issues[0].path).toBe('limit');

    const job = await s.client('env').jobs.submit({ title: 'x' });
    const patch = await call(s.app, {
      method: 'PATCH',
      url: `/api/v1/tasks/${job.id}`,
      token: all,
      body: { priority: 'urgent', title: '' },
    });
    expectEnvelope(patch, 400, 'VALIDATION_FAILED');
    expect(patch.json.error.details.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(['priority', 'title']),
    );

    const v1 = await call(s.app, {
      method: 'POST',
      url: '/api/v1/workstreams',
      token: all,
      body: { tasks: [] },
    });
    expectEnvelope(v1, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(v1.json.error.details)).toContain('definition.schema_version');
  });

  it('an invalid Idempotency-Key is a validation failure', async () => {
    for (const key of ['', 'k'.repeat(256)]) {
      const res = await call(s.app, {
        method: 'POST',
        url: '/api/jobs',
        token: all,
        body: { title: 'x' },
        headers: { 'idempotency-key': key },
      });
      expectEnvelope(res, 400, 'VALIDATION_FAILED');
      expect(res.json.error.message).toContain('Idempotency-Key');
    }
  });
});

describe('rate limit per token', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the burst, per token, refilled over time', async () => {
    const clock = { now: Date.UTC(2026, 0, 1) };
    const t = await startServer({ rateLimit: { perSecond: 1, burst: 2 }, now: () => clock.now });
    try {
      const a = await mint({ ws: 'rl', scopes: ['jobs:read'] });
      const b = await mint({ ws: 'rl', scopes: ['jobs:read'], sub: 'other' });
      const get = (token: string, url = '/api/jobs') => call(t.app, { method: 'GET', url, token });
      expect((await get(a)).status).toBe(200);
      expect((await get(a)).status).toBe(200);
      const limited = await get(a);
      expectEnvelope(limited, 429, 'RATE_LIMITED');
      expect(limited.headers['retry-after']).toBe('1');
      expect(limited.json.error.details.retryAfterSeconds).toBe(1);
      expectEnvelope(await get(a, '/metrics'), 429, 'RATE_LIMITED'); // /metrics counts too
      expect((await get(b)).status).toBe(200); // another token has its own bucket
      // Bad tokens are refused before the limiter.
      expectEnvelope(await get('garbage'), 401, 'UNAUTHENTICATED');
      clock.now += 1000;
      expect((await get(a)).status).toBe(200);
      expectEnvelope(await get(a), 429, 'RATE_LIMITED');
    } finally {
      await t.close();
    }
  });

  it('0 turns it off', async () => {
    const t = await startServer({ rateLimit: { perSecond: 0, burst: 1 }, now: () => 0 });
    try {
      const a = await mint({ ws: 'rl', scopes: ['jobs:read'] });
      for (let i = 0; i < 100; i++)
        expect((await call(t.app, { method: 'GET', url: '/api/jobs', token: a })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('defaults to 1,000/s with bursts of 2,000; a rate set alone brings its burst (twice the rate)', () => {
    const { rateLimit } = ServerConfigSchema.parse({});
    expect(rateLimit).toEqual({ perSecond: 1000, burst: 2000 });
    expect(loadServerConfig({}, { OVERSEER_RATE_LIMIT: '5' }, tmpdir()).rateLimit).toEqual({
      perSecond: 5,
      burst: 10,
    });
    expect(
      loadServerConfig({}, { OVERSEER_RATE_LIMIT: '5', OVERSEER_RATE_BURST: '7' }, tmpdir()).rateLimit,
    ).toEqual({ perSecond: 5, burst: 7 });
    expect(ServerConfigSchema.parse({ rateLimit: { perSecond: 0 } }).rateLimit).toEqual({
      perSecond: 0,
      burst: 1,
    });
    const limiter = new RateLimiter(rateLimit.perSecond, rateLimit.burst);
    for (let i = 0; i < 2000; i++) expect(limiter.take('t', 0).ok).toBe(true);
    expect(limiter.take('t', 0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('t', 1).ok).toBe(true); // 1 ms later, one more
    expect(limiter.take('other', 1).ok).toBe(true);
    const slow = new RateLimiter(0.25, 1);
    expect(slow.take('t', 0).ok).toBe(true);
    expect(slow.take('t', 0)).toEqual({ ok: false, retryAfterSeconds: 4 });
  });
});

/** An answer with its secrets (`token` fields: lease secrets, credentials) masked. */
const withoutSecrets = (json: unknown): unknown =>
  JSON.parse(JSON.stringify(json), (k: string, v: unknown) => (k === 'token' ? '<secret>' : v));

describe('Idempotency-Key on every POST, PATCH and DELETE', () => {
  for (const route of mutating) {
    it(`${routeKey(route)}: a replay answers the first answer`, async () => {
      const ws = freshWs('idem');
      const { request } = await fixtures[routeKey(route)]!.prepare(s.client(ws));
      const token = await mint({ ws, scopes: scopesOf(route) });
      const c: Call = { ...callOf(route, request, token), headers: { 'idempotency-key': `k-${ws}` } };
      const first = await call(s.app, c);
      expect(first.status, first.text).toBe(okStatus(route));
      const replay = await call(s.app, c);
      expect(replay.status, replay.text).toBe(first.status);
      // Secrets (a lease's, a credential) are never stored: a replay answers the same with fresh ones.
      expect(withoutSecrets(replay.json)).toEqual(withoutSecrets(first.json));
    });

    it(`${routeKey(route)}: the same key with another payload answers 422`, async () => {
      const ws = freshWs('idem');
      const fixture = fixtures[routeKey(route)]!;
      const one = (await fixture.prepare(s.client(ws))).request;
      let two = (await fixture.prepare(s.client(ws))).request;
      if (JSON.stringify(one) === JSON.stringify(two))
        two = { ...two, body: { ...(two.body as object), name: 'another name' } };
      const token = await mint({ ws, scopes: scopesOf(route) });
      const headers = { 'idempotency-key': 'same-key' };
      const first = await call(s.app, { ...callOf(route, one, token), headers });
      expect(first.status, first.text).toBe(okStatus(route));
      expectEnvelope(
        await call(s.app, { ...callOf(route, two, token), headers }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
    });
  }

  it('a replay creates nothing; routes of one command share keys; workspaces do not', async () => {
    const ws = freshWs('idem');
    const token = await mint({ ws, scopes: ['jobs:read', 'jobs:write'] });
    const headers = { 'idempotency-key': 'submit-1' };
    const body = { title: 'once' };
    const a = await call(s.app, { method: 'POST', url: '/api/jobs', token, body, headers });
    const b = await call(s.app, { method: 'POST', url: '/api/jobs', token, body, headers });
    const c = await call(s.app, { method: 'POST', url: '/api/v1/tasks', token, body, headers });
    expect(a.status).toBe(201);
    expect(b.json.id).toBe(a.json.id);
    expect(c.json.id).toBe(a.json.id);
    const list = await call(s.app, { method: 'GET', url: '/api/jobs', token });
    expect(list.json.jobs).toHaveLength(1);
    const other = await mint({ ws: freshWs('idem'), scopes: ['jobs:write'] });
    const d = await call(s.app, { method: 'POST', url: '/api/jobs', token: other, body, headers });
    expect(d.status).toBe(201);
    expect(d.json.id).not.toBe(a.json.id);
    // Without a key the same body is a new job.
    const e = await call(s.app, { method: 'POST', url: '/api/jobs', token, body });
    expect(e.json.id).not.toBe(a.json.id);
  });
});

describe('server-owned fields are ignored', () => {
  const owned = {
    id: 'job_evil',
    status: 'COMPLETED',
    depth: 4,
    retryCount: 9,
    workspaceId: 'victim',
    createdAt: 1,
    updatedAt: 1,
    workerId: 'wrk_evil',
    leaseExpiresAt: 1,
    lastError: 'evil',
    result: { evil: true },
    taskId: 'evil',
    workstreamId: 'wst_evil',
  };

  it('POST /api/jobs (and its aliases)', async () => {
    const ws = freshWs('owned');
    const token = await mint({ ws, scopes: ['jobs:read', 'jobs:write'] });
    const before = Date.now();
    for (const url of ['/api/jobs', '/api/jobs/submit', '/api/v1/tasks']) {
      const res = await call(s.app, { method: 'POST', url, token, body: { title: 'mine', ...owned } });
      expect(res.status, res.text).toBe(201);
      const job = res.json;
      expect(job.id).not.toBe('job_evil');
      expect(job.status).toBe('QUEUED');
      expect(job.depth).toBe(0);
      expect(job.retryCount).toBe(0);
      expect(job.workspaceId).toBe(ws);
      expect(job.createdAt).toBeGreaterThanOrEqual(before - 1000);
      expect(job.workerId).toBeNull();
      expect(job.lastError).toBeNull();
      expect(job.result).toBeUndefined();
      const got = await call(s.app, { method: 'GET', url: `/api/jobs/${job.id}`, token });
      expect(got.json).toEqual(job);
    }
    expectEnvelope(await call(s.app, { method: 'GET', url: '/api/jobs/job_evil', token }), 404, 'NOT_FOUND');
    const victim = await mint({ ws: 'victim', scopes: ['jobs:read'] });
    expect((await call(s.app, { method: 'GET', url: '/api/jobs', token: victim })).json.jobs).toHaveLength(0);
  });

  it('PATCH /api/v1/tasks/:id: only title, description and priority change; the path id wins', async () => {
    const ws = freshWs('owned');
    const c = s.client(ws);
    const job = await c.jobs.submit({ title: 'a' });
    const other = await c.jobs.submit({ title: 'other' });
    const token = await mint({ ws, scopes: ['jobs:write'] });
    const res = await call(s.app, {
      method: 'PATCH',
      url: `/api/v1/tasks/${job.id}`,
      token,
      body: { ...owned, jobId: other.id, title: 'b' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.id).toBe(job.id);
    expect(res.json.title).toBe('b');
    expect(res.json.status).toBe('QUEUED');
    expect(res.json.depth).toBe(0);
    expect(res.json.workspaceId).toBe(ws);
    expect((await c.jobs.get(other.id)).title).toBe('other');
  });

  it('POST /api/v1/workers and POST /api/v1/workstreams', async () => {
    const ws = freshWs('owned');
    const token = await mint({ ws, scopes: ['queue:work', 'jobs:write'] });
    const w = await call(s.app, {
      method: 'POST',
      url: '/api/v1/workers',
      token,
      body: { name: 'agent', ...owned, id: 'wrk_evil', status: 'RUNNING', jobId: 'job_x', draining: true },
    });
    expect(w.status, w.text).toBe(201);
    expect(w.json.id).not.toBe('wrk_evil');
    expect(w.json.status).toBe('IDLE');
    expect(w.json.jobId).toBeNull();
    expect(w.json.draining).toBe(false);
    expect(w.json.workspaceId).toBe(ws);

    const def = { ...definition(), id: 'wst_evil', status: 'COMPLETED', workspaceId: 'victim' };
    const st = await call(s.app, { method: 'POST', url: '/api/v1/workstreams', token, body: def });
    expect(st.status, st.text).toBe(201);
    expect(st.json.id).not.toBe('wst_evil');
    expect(st.json.status).not.toBe('COMPLETED');
    expect(st.json.workspaceId).toBe(ws);
  });

  it('a path id beats a body id (terminate, heartbeat, cancel)', async () => {
    const ws = freshWs('owned');
    const c = s.client(ws);
    const w1 = await c.workers.register({ name: 'one' });
    const w2 = await c.workers.register({ name: 'two' });
    const token = await mint({ ws, scopes: ['supervisor:write', 'jobs:write'] });
    const res = await call(s.app, {
      method: 'POST',
      url: `/api/supervisor/workers/${w1.id}/terminate`,
      token,
      body: { workerId: w2.id },
    });
    expect(res.json.id).toBe(w1.id);
    expect((await c.workers.get(w2.id)).status).toBe('IDLE');
    const j1 = await c.jobs.submit({ title: 'one' });
    const j2 = await c.jobs.submit({ title: 'two' });
    const cancel = await call(s.app, {
      method: 'POST',
      url: `/api/jobs/${j1.id}/cancel`,
      token,
      body: { jobId: j2.id },
    });
    expect(cancel.json.id).toBe(j1.id);
    expect((await c.jobs.get(j2.id)).status).toBe('QUEUED');
  });
});

// ── seeded random malformed requests ────────────────────────────────────────

const SEED = Number(process.env['HTTP_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env['HTTP_FUZZ_RUNS'] ?? 500);
console.log(`envelope fuzz: seed ${SEED}, ${RUNS} requests (rerun with HTTP_FUZZ_SEED=${SEED})`);

/** mulberry32: a small seeded PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const FIELDS = [
  'title',
  'description',
  'type',
  'priority',
  'parentJobId',
  'dependsOn',
  'capabilities',
  'resources',
  'workerCount',
  'execution',
  'leaseSeconds',
  'metadata',
  'hold',
  'jobId',
  'workerId',
  'workstreamId',
  'leaseToken',
  'result',
  'claimNext',
  'reason',
  'retryable',
  'waitMs',
  'name',
  'status',
  'limit',
  'cursor',
  'afterSeq',
  'schema_version',
  'workstream_id',
  'tasks',
  '__proto__',
  'constructor',
  '',
  '💥',
];
const STRINGS = [
  '',
  ' ',
  'x',
  'job_',
  'wrk_',
  '\u0000',
  '\ud800',
  '💥🔥',
  'ÿ',
  'מימין',
  '../../etc/passwd',
  '%00',
  '<script>',
  "'; DROP TABLE jobs; --",
  'a'.repeat(600),
  'b'.repeat(20_000),
  'QUEUED',
  'high',
  'repo:x',
  'path:/a/b',
  '2.0.0',
  'NaN',
  '-1',
  '1e309',
];
/**
 * Path ids stay within Fastify's 100-character parameter limit and valid percent-encoding: both are known bugs
 * with their own tests above (they answer Fastify's body, not the envelope), kept out so this run finds new ones.
 */
const PATH_STRINGS = STRINGS.filter((x) => x.length <= 100);
const NUMBERS = [0, -0, -1, 1, 0.5, 1e308, -1e308, 2 ** 53 + 1, 2 ** 31, 30_000, 30_001, 1e-300];

function junk(rng: Rng, ids: string[], depth = 0): unknown {
  const r = rng.int(depth > 4 ? 5 : 9);
  switch (r) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick(NUMBERS);
    case 3:
      return rng.pick(STRINGS);
    case 4:
      return ids.length > 0 ? rng.pick(ids) : 'job_x';
    case 5:
    case 6: {
      const out: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) out[rng.pick(FIELDS)] = junk(rng, ids, depth + 1);
      return out;
    }
    case 7:
      return Array.from({ length: rng.int(4) }, () => junk(rng, ids, depth + 1));
    default: {
      // deep nesting
      let v: unknown = rng.pick(STRINGS);
      for (let i = rng.int(200); i > 0; i--) v = rng.chance(0.5) ? [v] : { a: v };
      return v;
    }
  }
}

/** A body shaped like the command's input, with some fields wrong. */
function shapedBody(rng: Rng, route: Route, ids: string[]): Record<string, unknown> {
  const shape = (commandTable.get(route.command)!.input as unknown as { shape?: Record<string, unknown> })
    .shape;
  const keys = Object.keys(shape ?? {});
  const body: Record<string, unknown> = {};
  for (const k of keys) if (rng.chance(0.7)) body[k] = rng.chance(0.5) ? junk(rng, ids, 3) : rng.pick(ids);
  if (rng.chance(0.3)) body[rng.pick(FIELDS)] = junk(rng, ids);
  if (route.command === 'workstreams.submit' && rng.chance(0.5))
    return { ...definition(), tasks: [{ task_id: 'a', name: 'A', type: junk(rng, ids, 4) }] };
  return body;
}

const RAW_PAYLOADS = [
  '{',
  '[',
  '{"a":}',
  'nul',
  '{"title":"x"',
  '\uFEFF{}',
  '{"a":1,"a":2}',
  '1e999',
  '"\\ud800"',
];
const ODD_IDS = [
  '%00',
  '..',
  '%2e%2e',
  '%2F',
  '%2Fetc%2Fpasswd',
  '%C3%BC',
  '%F0%9F%92%A5',
  '%20',
  '%25',
  'a'.repeat(100),
  ';',
  'job_x;drop',
  '*',
  '$',
  '~',
  "'",
];
/** encodeURIComponent; a lone surrogate becomes U+FFFD (invalid UTF-8 in a path has its own test above). */
const encode = (v: string) => {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%EF%BF%BD';
  }
};

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/vnd.api+json',
  'application/x-www-form-urlencoded',
  '',
];

describe('seeded random malformed requests never answer 5xx and always the envelope', () => {
  let ids: string[] = [];
  let tokens: string[] = [];

  beforeAll(async () => {
    const c = s.client('fuzz');
    const w = await c.workers.register({ name: 'fuzz' });
    const j = await c.jobs.submit({ title: 'fuzz' });
    const held = await c.jobs.submit({ title: 'held', hold: true });
    const claim = await c.queue.claim({ workerId: w.id });
    const wst = await c.workstreams.submit(definition(), { start: false });
    ids = [w.id, j.id, held.id, wst.id, claim.lease?.token ?? '1', 'fuzz', 'env'];
    tokens = [
      await mint({ ws: 'fuzz', scopes: NON_ADMIN_SCOPES }),
      await mint({ ws: 'fuzz', scopes: ['admin'] }),
      await mint({ ws: 'other', scopes: ALL_SCOPES }),
      await mint({ ws: 'fuzz', scopes: ['jobs:read'] }),
    ];
  });

  it(`${RUNS} requests across every route (seed ${SEED})`, async () => {
    const rng = prng(SEED);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < RUNS; i++) {
      const route = routes[i % routes.length]!;
      const headers: Record<string, string> = {};
      let url = route.path.replace(/:[^/]+/g, () =>
        rng.chance(0.4)
          ? rng.pick(ODD_IDS)
          : encode(rng.chance(0.5) ? rng.pick(ids) : rng.pick(PATH_STRINGS)),
      );
      const query: string[] = [];
      for (let q = rng.int(4); q > 0; q--) {
        const key = rng.pick([...FIELDS, 'workspaceId', 'start']);
        const value = String(rng.chance(0.5) ? rng.pick(STRINGS) : rng.pick(NUMBERS));
        query.push(`${encodeURIComponent(key)}=${rng.chance(0.1) ? '%zz' : encode(value)}`);
      }
      if (query.length > 0) url += `?${query.join('&')}`;
      const method: Method = rng.chance(0.05)
        ? rng.pick(['GET', 'POST', 'PATCH', 'DELETE', 'PUT'] as const)
        : route.method;
      let payload: string | undefined;
      if (method !== 'GET' && rng.chance(0.9)) {
        const kind = rng.int(10);
        if (kind < 5) {
          const body = shapedBody(rng, route, ids);
          // Long polls are bounded so the run stays short.
          if (typeof body['waitMs'] === 'number' && body['waitMs'] > 20) body['waitMs'] = 20;
          payload = JSON.stringify(body);
        } else if (kind < 8) {
          const value = junk(rng, ids);
          payload = JSON.stringify(value) ?? 'null';
        } else payload = rng.pick(RAW_PAYLOADS);
        const type = rng.chance(0.85) ? 'application/json' : rng.pick(CONTENT_TYPES);
        if (type) headers['content-type'] = type;
      }
      if (rng.chance(0.2)) headers['idempotency-key'] = rng.pick(['k', 'k'.repeat(300), 'same', `${i}`]);
      const token = rng.chance(0.1) ? rng.pick(['garbage', '']) : rng.pick(tokens);
      const req = { method, url, token, headers, ...(payload !== undefined ? { payload } : {}) };
      let res: Reply;
      try {
        res = await call(s.app, req);
      } catch (err) {
        failures.push(`#${i} ${method} ${url}: threw ${String(err)}`);
        continue;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const what = `#${i} ${method} ${url.slice(0, 200)} ${String(payload).slice(0, 200)} → ${res.status} ${res.text.slice(0, 300)}`;
      if (res.status >= 500) failures.push(what);
      else if (res.status >= 400) {
        try {
          expectEnvelope(res);
        } catch (err) {
          failures.push(`${what}: ${String(err).slice(0, 200)}`);
        }
      } else if (leaksInternals(res.text) && !res.text.includes('../../etc/passwd'))
        failures.push(`${what}: leak`);
    }
    console.log(`envelope fuzz: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures, `seed ${SEED}`).toEqual([]);
  }, 60_000);
});
