/**
 * Tests generated from the route table and the OpenAPI document: a new route gets every check below (and the
 * coverage assertions fail until it has a fixture).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandTable } from '../../src/api/commands.ts';
import type { Scope } from '../../src/contracts/scopes.ts';
import { buildOpenApi } from '../../src/http/openapi.ts';
import { PUBLIC_PATHS, routes, type Route } from '../../src/http/routes.ts';
import {
  NON_ADMIN_SCOPES,
  call,
  callOf,
  definition,
  expectEnvelope,
  fixtures,
  freshWs,
  mint,
  routeKey,
  running,
  startServer,
  urlOf,
  type TestServer,
} from './support.ts';

/** Body and path fields that name an object of the workspace. */
const OBJECT_FIELDS = ['jobId', 'workerId', 'parentJobId', 'dependsOn', 'workstreamId'];

const commandOf = (route: Route) => {
  const command = commandTable.get(route.command);
  if (!command) throw new Error(`route ${routeKey(route)} names no command ${route.command}`);
  return command;
};
const inputFields = (route: Route): string[] =>
  Object.keys((commandOf(route).input as unknown as { shape?: Record<string, unknown> }).shape ?? {});
/** A route names an object when its path has an id or its body (not a list query) has an object field. */
const namesObject = (route: Route): boolean =>
  route.path.includes(':') ||
  (route.method !== 'GET' && inputFields(route).some((f) => OBJECT_FIELDS.includes(f)));
const hasBody = (route: Route) => route.method === 'POST' || route.method === 'PATCH';
/** What a route answers for an object its workspace does not have (a workflow has its own code). */
const NOT_FOUND = ['NOT_FOUND', 'WORKFLOW_NOT_FOUND'] as const;
const okStatus = (route: Route) => route.status ?? 200;

/** Routes only a phase or check token opens (tested in tests/workflow/transition.test.ts). */
const tokenOnly = (route: Route) => {
  const tokens = commandOf(route).tokens;
  return tokens !== undefined && tokens.apiTokens !== true;
};
/** Routes only the lease holder's own worker credential opens, no API token (tests/workflow/evidence.test.ts). */
const credentialOnly = (route: Route) => route.command === 'workflow.evidence';
const apiRoutes = routes.filter((r) => !tokenOnly(r));
const naming = apiRoutes.filter(namesObject);
const listing = apiRoutes.filter((r) => r.method === 'GET' && !r.path.includes(':'));

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});

describe('coverage of the route table', () => {
  it('has a fixture for every route and no fixture for a route that does not exist', () => {
    const keys = routes.map(routeKey);
    expect(new Set(keys).size).toBe(routes.length);
    expect(Object.keys(fixtures).sort()).toEqual([...keys].sort());
    expect(routes.length).toBe(49);
  });

  it('maps every route to a command with scopes (but whoami, open to any valid token), none admin-only', () => {
    for (const route of routes) {
      const command = commandOf(route);
      // whoami, and the routes a phase or check token opens (by its kind, not by scopes).
      if (command.name === 'auth.whoami' || tokenOnly(route)) expect(command.scopes).toEqual([]);
      else expect(command.scopes.length, routeKey(route)).toBeGreaterThan(0);
      expect(command.scopes, routeKey(route)).not.toContain('admin');
    }
  });

  it('classifies the routes that name objects', () => {
    // Path ids, and bodies naming jobId / workerId / parentJobId / dependsOn / workstreamId.
    expect(naming.map(routeKey)).toEqual(
      expect.arrayContaining([
        'POST /api/resources/allocate',
        'POST /api/resources/release',
        'POST /api/jobs',
        'POST /api/jobs/submit',
        'POST /api/v1/tasks',
        'POST /api/v1/queue/enqueue',
        'POST /api/v1/queue/claim',
        'POST /api/v1/tasks/claim',
        'POST /api/v1/queue/complete',
        'POST /api/v1/queue/fail',
        'POST /api/v1/tokens/refresh',
      ]),
    );
    expect(naming.length).toBe(routes.filter((r) => r.path.includes(':')).length + 11);
  });

  it('documents every route in the OpenAPI document with its command and scopes', () => {
    const doc = buildOpenApi() as { paths: Record<string, Record<string, Record<string, unknown>>> };
    for (const route of routes) {
      const op = doc.paths[route.path.replace(/:([^/]+)/g, '{$1}')]?.[route.method.toLowerCase()];
      expect(op, routeKey(route)).toBeDefined();
      expect(op!['x-command'], routeKey(route)).toBe(route.command);
      expect(op!['x-scopes'], routeKey(route)).toEqual(commandOf(route).scopes);
    }
    const documented = Object.values(doc.paths).flatMap((p) => Object.keys(p)).length;
    expect(documented).toBe(routes.length + 5); // healthz, readyz, metrics, openapi.json, docs
  });
});

describe('authentication: 401 without a valid token', () => {
  for (const route of routes) {
    it(`${routeKey(route)}: no token, a garbage token, an empty bearer`, async () => {
      const base = { method: route.method, url: urlOf(route), ...(hasBody(route) ? { body: {} } : {}) };
      expectEnvelope(await call(s.app, base), 401, 'UNAUTHENTICATED');
      expectEnvelope(await call(s.app, { ...base, token: 'garbage' }), 401, 'UNAUTHENTICATED');
      expectEnvelope(await call(s.app, { ...base, authorization: 'Bearer ' }), 401, 'UNAUTHENTICATED');
    });
  }
});

describe('scopes: 403 with every other non-admin scope', () => {
  for (const route of routes.filter((r) => commandOf(r).scopes.length > 0)) {
    const needed = commandOf(route).scopes;
    const others = NON_ADMIN_SCOPES.filter((sc) => !needed.includes(sc));
    it(`${routeKey(route)} needs ${needed.join(' or ')}`, async () => {
      const ws = freshWs();
      const token = await mint({ ws, scopes: others });
      const res = await call(s.app, {
        method: route.method,
        url: urlOf(route),
        token,
        ...(hasBody(route) ? { body: {} } : {}),
      });
      expectEnvelope(res, 403, 'INSUFFICIENT_SCOPE');
      expect(res.json.error.details.required).toEqual(needed);
    });
  }
});

describe('success with the right scope in the right workspace', () => {
  for (const route of routes.filter((r) => !credentialOnly(r))) {
    for (const scope of commandOf(route).scopes) {
      it(`${routeKey(route)} with ${scope} → ${okStatus(route)}`, async () => {
        const ws = freshWs();
        const { request } = await fixtures[routeKey(route)]!.prepare(s.client(ws));
        const token = await mint({ ws, scopes: [scope] });
        const res = await call(s.app, callOf(route, request, token));
        expect(res.status, res.text).toBe(okStatus(route));
        expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
        expect(res.json).toBeTypeOf('object');
      });
    }
  }
});

describe('admin: everything, in any workspace chosen with ?workspaceId=', () => {
  // Evidence is the one thing an admin does not send: only the lease holder's credential does.
  for (const route of apiRoutes.filter((r) => !credentialOnly(r))) {
    it(`${routeKey(route)} as admin of another workspace`, async () => {
      const target = freshWs('target');
      const { request } = await fixtures[routeKey(route)]!.prepare(s.client(target));
      const admin = await mint({ ws: freshWs('admin'), scopes: ['admin'] });
      if (namesObject(route)) {
        // Without ?workspaceId= the admin acts in its own workspace, where the object does not exist.
        expectEnvelope(await call(s.app, callOf(route, request, admin)), 404, NOT_FOUND);
      }
      const res = await call(s.app, callOf(route, request, admin, { workspaceId: target }));
      expect(res.status, res.text).toBe(okStatus(route));
    });
  }

  it('refuses an invalid ?workspaceId= with VALIDATION_FAILED', async () => {
    const admin = await mint({ ws: freshWs('admin'), scopes: ['admin'] });
    for (const bad of ['UPPER', '../x', '', '-x', 'a'.repeat(64), 'a b', 'a.b'])
      expectEnvelope(
        await call(s.app, { method: 'GET', url: '/api/jobs', token: admin, query: { workspaceId: bad } }),
        400,
        'VALIDATION_FAILED',
      );
  });
});

describe('workspace isolation: 404 for an object of another workspace', () => {
  for (const route of naming.filter((r) => !credentialOnly(r))) {
    it(`${routeKey(route)}`, async () => {
      const a = freshWs('a');
      const b = freshWs('b');
      const prepared = await fixtures[routeKey(route)]!.prepare(s.client(a));
      const scopes = commandOf(route).scopes;
      const tokenB = await mint({ ws: b, scopes });
      for (const req of prepared.cross ?? [prepared.request]) {
        expectEnvelope(await call(s.app, callOf(route, req, tokenB)), 404, NOT_FOUND);
        // A non-admin token naming another workspace is still held to its own.
        expectEnvelope(await call(s.app, callOf(route, req, tokenB, { workspaceId: a })), 404, NOT_FOUND);
      }
      // The object was untouched: its own workspace still gets the answer.
      const tokenA = await mint({ ws: a, scopes });
      const res = await call(s.app, callOf(route, prepared.request, tokenA));
      expect(res.status, res.text).toBe(okStatus(route));
    });
  }

  it('lists and stats of another workspace show none of its objects', async () => {
    const a = freshWs('a');
    const b = freshWs('b');
    const ca = s.client(a);
    const r = await running(ca);
    const held = await ca.jobs.submit({ title: 'held', hold: true });
    const wst = await ca.workstreams.submit(definition());
    const ids = [r.jobId, r.workerId, held.id, wst.id, a];
    const tokenB = await mint({ ws: b, scopes: NON_ADMIN_SCOPES });
    expect(listing.length).toBe(12);
    for (const route of listing) {
      const res = await call(s.app, { method: 'GET', url: route.path, token: tokenB });
      expect(res.status, `${routeKey(route)} ${res.text}`).toBe(200);
      for (const id of ids) expect(res.text, `${routeKey(route)} leaks ${id}`).not.toContain(id);
    }
  });
});

describe('public routes and /metrics', () => {
  for (const path of PUBLIC_PATHS) {
    it(`${path} answers 200 without a token (and ignores a bad one)`, async () => {
      expect((await call(s.app, { method: 'GET', url: path })).status).toBe(200);
      expect((await call(s.app, { method: 'GET', url: path, token: 'garbage' })).status).toBe(200);
    });
  }

  it('/docs serves its assets without a token; an unknown asset is a 404 envelope', async () => {
    const css = await call(s.app, { method: 'GET', url: '/docs/swagger-ui.css' });
    expect(css.status).toBe(200);
    expectEnvelope(await call(s.app, { method: 'GET', url: '/docs/..%2Fpackage.json' }), 404, 'NOT_FOUND');
  });

  it('/metrics: 401 without a valid token, 200 with any valid token', async () => {
    expectEnvelope(await call(s.app, { method: 'GET', url: '/metrics' }), 401, 'UNAUTHENTICATED');
    expectEnvelope(await call(s.app, { method: 'GET', url: '/metrics', token: 'x.y.z' }), 401);
    for (const scopes of [[], ...NON_ADMIN_SCOPES.map((sc) => [sc]), ['admin']] as Scope[][]) {
      const res = await call(s.app, {
        method: 'GET',
        url: '/metrics',
        token: await mint({ ws: 'm', scopes }),
      });
      expect(res.status, scopes.join()).toBe(200);
      expect(String(res.headers['content-type'])).toMatch(/^text\/plain/);
      expect(res.text).toContain('overseer_http_request_duration_seconds');
    }
  });

  it("/metrics: a workspace's token sees its own workspace's series only; an admin sees every workspace", async () => {
    await s.client('mine').jobs.submit({ title: 'mine' });
    await s.client('theirs').jobs.submit({ title: 'theirs' });
    const scrape = async (scopes: Scope[]) =>
      (await call(s.app, { method: 'GET', url: '/metrics', token: await mint({ ws: 'mine', scopes }) })).text;
    const own = await scrape(['jobs:read']);
    expect(own).toMatch(/^overseer_jobs\{workspace="mine",status="QUEUED"\} 1$/m);
    expect(own).not.toContain('workspace="theirs"');
    expect(own).toContain('overseer_process_'); // series without a workspace label stay
    expect(own).toContain('# HELP overseer_jobs ');
    const all = await scrape(['admin']);
    expect(all).toMatch(/^overseer_jobs\{workspace="theirs",status="QUEUED"\} 1$/m);
    expect(all).toContain('workspace="mine"');
  });
});

describe('generated from the OpenAPI document', () => {
  const doc = buildOpenApi() as {
    paths: Record<string, Record<string, { security: unknown[]; 'x-scopes'?: string[] }>>;
  };
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase() as Route['method'],
      url: path.replace(/\{[^}]+\}/g, 'x'),
      op,
    })),
  );

  it('covers every operation: secured ones answer 401 without a token, open ones 200', async () => {
    expect(ops.length).toBe(routes.length + 5);
    for (const { method, url, op } of ops) {
      const body = method === 'POST' || method === 'PATCH' ? { body: {} } : {};
      const res = await call(s.app, { method, url, ...body });
      if (op.security.length > 0) expectEnvelope(res, 401, 'UNAUTHENTICATED');
      else expect(res.status, `${method} ${url}`).toBe(200);
    }
  });
});
