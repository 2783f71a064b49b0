/**
 * Test kit of the HTTP adapter: a runtime on a temp dir behind `buildHttpServer` with a fixed secret, token
 * minting (honest and hostile), `inject()` wrappers, the envelope check, and per-route fixtures that create the
 * objects a route names so generated tests can fill path and body ids.
 */
import { runtimeSampler } from '../../src/server/runtime-sampler.ts';
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import { SignJWT } from 'jose';
import { Authenticator, createToken, API_TOKEN_TYP } from '../../src/api/auth.ts';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import type { WorkstreamDefinitionInput } from '../../src/contracts/task-definition.ts';
import { Scope } from '../../src/contracts/scopes.ts';
import { ErrorCodes } from '../../src/core/errors.ts';
import { createLogger } from '../../src/core/log.ts';
import { buildOpenApi } from '../../src/http/openapi.ts';
import type { Route } from '../../src/http/routes.ts';
import { buildHttpServer } from '../../src/http/server.ts';
import { localCaller } from '../../src/api/command-caller.ts';
import { EXAMPLE_WORKFLOW_YAML } from '../../src/api/commands/workflows.ts';
import type { OverseerOptions } from '../../src/index.ts';
import { openTestOverseer, type TestOverseer } from '../support/open.ts';

export const TEST_SECRET = new TextEncoder().encode('overseer-http-tests-secret-0123456789abcdef');
export const WRONG_SECRET = new TextEncoder().encode('not-the-overseer-secret-0123456789abcdefgh');
export const ALL_SCOPES: readonly Scope[] = Object.values(Scope);
export const NON_ADMIN_SCOPES: readonly Scope[] = ALL_SCOPES.filter((s) => s !== 'admin');

export type App = ReturnType<typeof buildHttpServer>;

export interface ServerOptions {
  rateLimit?: { perSecond: number; burst: number };
  /** The rate limiter's clock. */
  now?: () => number;
  /** The authenticator's clock. */
  authNow?: () => number;
  overseer?: OverseerOptions;
}

export interface TestServer {
  app: App;
  t: TestOverseer;
  authenticator: Authenticator;
  /** A library client of a workspace (no HTTP), to create fixtures. */
  client(ws: string): WorkspaceClient;
  close(): Promise<void>;
}

let wsCounter = 0;
/** A workspace id no other test of this process uses. */
export const freshWs = (prefix = 'ws'): string => `${prefix}-${process.pid}-${++wsCounter}`;

/** A runtime on a temp dir with its HTTP server (rate limit off unless given). */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const t = await openTestOverseer({ tokenSecret: TEST_SECRET, ...options.overseer });
  // The runtime's own (it checks revoked worker credentials), unless a test sets the authentication clock.
  const authenticator = options.authNow
    ? new Authenticator({ secret: TEST_SECRET }, options.authNow)
    : t.ov.runtime.authenticator;
  let openapi: unknown;
  const app = buildHttpServer({
    caller: localCaller(t.ov.runtime.dispatch, authenticator),
    logger: createLogger('silent'),
    rateLimit: options.rateLimit ?? { perSecond: 0, burst: 1 },
    ready: () => true,
    openapi: () => (openapi ??= buildOpenApi()),
    metrics: { sample: runtimeSampler(t.ov.runtime, undefined) },
    ...(options.now ? { now: options.now } : {}),
  });
  await app.ready();
  return {
    app,
    t,
    authenticator,
    // Fixtures are made by the subject `mint` gives by default: its unbound tokens own the workers they register.
    client: (ws) => t.ov.workspace(ws, { principal: { sub: 'tester', workspaceId: ws, scopes: ['admin'] } }),
    async close() {
      await app.close();
      await t.cleanup();
    },
  };
}

// ── tokens ──────────────────────────────────────────────────────────────────

export interface TokenClaims {
  ws: string;
  scopes: readonly Scope[];
  sub?: string;
  ttlSeconds?: number;
  now?: number;
}

/** An honest token (the CLI's `createToken`). */
export const mint = (c: TokenClaims): Promise<string> =>
  createToken(
    { secret: TEST_SECRET },
    {
      sub: c.sub ?? 'tester',
      workspaceId: c.ws,
      scopes: c.scopes,
      ttlSeconds: c.ttlSeconds ?? 3600,
      ...(c.now !== undefined ? { now: c.now } : {}),
    },
  );

/** A raw jose token: full control of header, claims and key (for hostile tokens). */
export async function rawToken(opts: {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  secret?: Uint8Array;
}): Promise<string> {
  const header = { alg: 'HS256', typ: API_TOKEN_TYP, ...opts.header } as { alg: string };
  return new SignJWT(opts.claims ?? {}).setProtectedHeader(header).sign(opts.secret ?? TEST_SECRET);
}

/** Claims of a good token, as a plain object, for building variants. */
export function goodClaims(
  ws: string,
  scopes: readonly Scope[],
  nowMs = Date.now(),
): Record<string, unknown> {
  const now = Math.floor(nowMs / 1000);
  return {
    sub: 'tester',
    ws,
    scopes: [...scopes],
    iss: 'overseer',
    aud: 'overseer-api',
    iat: now,
    exp: now + 3600,
  };
}

export const b64url = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');

// ── requests ────────────────────────────────────────────────────────────────

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT' | 'HEAD' | 'OPTIONS';

export interface Call {
  method: Method;
  url: string;
  /** A bearer token; `authorization` sets the raw header instead. */
  token?: string | undefined;
  authorization?: string;
  /** A JSON body (serialized). */
  body?: unknown;
  /** A raw body (sent as is). */
  payload?: string | Buffer;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

export interface Reply {
  status: number;
  headers: Record<string, unknown>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON of any shape, read freely by tests
  json: any;
}

const withQuery = (url: string, query?: Record<string, string>): string => {
  if (!query || Object.keys(query).length === 0) return url;
  const qs = new URLSearchParams(query).toString();
  return `${url}${url.includes('?') ? '&' : '?'}${qs}`;
};

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** `app.inject` with a bearer token and a JSON body. */
export async function call(app: App, c: Call): Promise<Reply> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.authorization !== undefined) headers['authorization'] = c.authorization;
  else if (c.token !== undefined) headers['authorization'] = `Bearer ${c.token}`;
  let payload: string | Buffer | undefined = c.payload;
  if (payload === undefined && c.body !== undefined) {
    payload = JSON.stringify(c.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await app.inject({
    method: c.method,
    url: withQuery(c.url, c.query),
    headers,
    ...(payload !== undefined ? { payload } : {}),
  });
  return { status: res.statusCode, headers: res.headers, text: res.body, json: parseJson(res.body) };
}

/** A raw request over a real socket (for header limits Node enforces before Fastify). */
export function socketRequest(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

// ── the envelope ────────────────────────────────────────────────────────────

/** A stack frame, a source path or a `stack` key in a client-visible body. */
export function leaksInternals(text: string): boolean {
  return (
    /"stack"\s*:/.test(text) ||
    /\bat [^\s]+ \(?[^\s)]*:\d+:\d+\)?/.test(text) ||
    /\n\s+at /.test(text) ||
    /node_modules|\/src\/[a-z-]+\/[a-z-]+\.ts/.test(text)
  );
}

/** Asserts the reply is exactly `{ error: { code, message, details } }` with a known code, and no stack. */
export function expectEnvelope(res: Reply, status?: number, code?: string | readonly string[]): void {
  const where = `${res.status} ${res.text.slice(0, 300)}`;
  if (status !== undefined) expect(res.status, where).toBe(status);
  expect(String(res.headers['content-type']), where).toMatch(/^application\/json/);
  const body = res.json as { error?: Record<string, unknown> } | undefined;
  expect(body, where).toBeTypeOf('object');
  expect(Object.keys(body!), where).toEqual(['error']);
  const error = body!.error!;
  expect(Object.keys(error).sort(), where).toEqual(['code', 'details', 'message']);
  expect(Object.keys(ErrorCodes), where).toContain(error['code']);
  expect(error['message'], where).toBeTypeOf('string');
  expect(error['details'], where).toBeTypeOf('object');
  expect(error['details'], where).not.toBeNull();
  expect(ErrorCodes[error['code'] as keyof typeof ErrorCodes].status, where).toBe(res.status);
  if (code !== undefined) {
    const codes = typeof code === 'string' ? [code] : code;
    expect(codes, where).toContain(error['code']);
  }
  expect(leaksInternals(res.text), where).toBe(false);
}

// ── route fixtures ──────────────────────────────────────────────────────────

export const routeKey = (r: Pick<Route, 'method' | 'path'>): string => `${r.method} ${r.path}`;

/** What a request to one route carries. */
export interface RouteRequest {
  /** The `:id` of the path. */
  id?: string;
  body?: unknown;
  query?: Record<string, string>;
}

export interface Prepared {
  /** A request that succeeds in the workspace it was prepared in. */
  request: RouteRequest;
  /** Requests that each name one object of that workspace (default: `[request]`). */
  cross?: RouteRequest[];
}

export interface Fixture {
  /** Creates what the route needs in `c`'s workspace. */
  prepare(c: WorkspaceClient): Promise<Prepared>;
}

/** Fills `:id` of a route path. */
export const urlOf = (route: Pick<Route, 'path'>, id = 'x'): string =>
  route.path.replace(/:[^/]+/g, encodeURIComponent(id));

const job = (c: WorkspaceClient, extra: Record<string, unknown> = {}) =>
  c.jobs.submit({ title: 'fixture job', ...extra });
const worker = (c: WorkspaceClient) => c.workers.register({ name: 'fixture worker' });

/** A worker holding a RUNNING job, and its lease. */
export async function running(c: WorkspaceClient) {
  const w = await worker(c);
  const j = await job(c);
  const claim = await c.queue.claim({ workerId: w.id });
  if (claim.job?.id !== j.id || !claim.lease) throw new Error('fixture: the claim did not get the job');
  return { workerId: w.id, jobId: j.id, leaseToken: claim.lease.token };
}

/** A worker holding a RUNNING job under the default workflow, with its claim (phase and check tokens). */
export async function runningWorkflowJob(c: WorkspaceClient) {
  const w = await worker(c);
  const j = await job(c, { workflow: 'default' });
  const claim = await c.queue.claim({ workerId: w.id });
  if (claim.job?.id !== j.id || !claim.phaseToken) throw new Error('fixture: the claim did not get the job');
  return { workerId: w.id, jobId: j.id, claim };
}

let defCounter = 0;
let workflowCounter = 0;
let lockCounter = 0;
/** A lock no other fixture holds. */
const lockName = () => `repo:fixture-${++lockCounter}`;
export const definition = (): WorkstreamDefinitionInput => ({
  schema_version: '2.0.0',
  workstream_id: `def-${++defCounter}`,
  name: 'fixture workstream',
  tasks: [
    { task_id: 'a', name: 'A', type: 'feature' },
    { task_id: 'b', name: 'B', type: 'test', dependencies: ['a'] },
  ],
});

const none: Fixture = { prepare: () => Promise.resolve({ request: {} }) };
const onWorker: Fixture = { prepare: async (c) => ({ request: { id: (await worker(c)).id } }) };
const onJob: Fixture = { prepare: async (c) => ({ request: { id: (await job(c)).id } }) };
const submit: Fixture = {
  async prepare(c) {
    const parent = await job(c);
    const dep = await job(c);
    return {
      request: { body: { title: 'child', parentJobId: parent.id, dependsOn: [dep.id] } },
      cross: [
        { body: { title: 'child', parentJobId: parent.id } },
        { body: { title: 'dependent', dependsOn: [dep.id] } },
      ],
    };
  },
};
const onWorkstream = (start: boolean): Fixture => ({
  prepare: async (c) => ({ request: { id: (await c.workstreams.submit(definition(), { start })).id } }),
});

/** One fixture per route of the table, keyed `METHOD path`. */
export const fixtures: Record<string, Fixture> = {
  'GET /api/supervisor/workers': none,
  'GET /api/supervisor/workers/:id': onWorker,
  'POST /api/supervisor/workers/:id/pause': onWorker,
  'POST /api/supervisor/workers/:id/resume': {
    async prepare(c) {
      const w = await worker(c);
      await c.workers.pause(w.id);
      return { request: { id: w.id } };
    },
  },
  'POST /api/supervisor/workers/:id/terminate': {
    prepare: async (c) => ({ request: { id: (await worker(c)).id, body: { reason: 'test' } } }),
  },
  'GET /api/supervisor/metrics': none,
  'GET /api/resources/quotas': none,
  'POST /api/resources/allocate': {
    async prepare(c) {
      const r = await running(c);
      return { request: { body: { jobId: r.jobId, resources: [{ name: lockName() }] } } };
    },
  },
  'POST /api/resources/release': {
    async prepare(c) {
      const r = await running(c);
      const resources = [{ name: lockName() }];
      await c.resources.allocate({ jobId: r.jobId, resources });
      return { request: { body: { jobId: r.jobId, resources } } };
    },
  },
  'GET /api/resources/usage': none,
  'POST /api/jobs': submit,
  'POST /api/jobs/submit': submit,
  'GET /api/jobs': { prepare: () => Promise.resolve({ request: { query: { limit: '10' } } }) },
  'GET /api/jobs/:id': onJob,
  'POST /api/jobs/:id/cancel': {
    prepare: async (c) => ({ request: { id: (await job(c)).id, body: { reason: 'test' } } }),
  },
  'POST /api/v1/tasks': submit,
  'GET /api/v1/tasks': { prepare: () => Promise.resolve({ request: { query: { status: 'QUEUED' } } }) },
  'GET /api/v1/tasks/:id': onJob,
  'PATCH /api/v1/tasks/:id': {
    prepare: async (c) => ({
      request: { id: (await job(c)).id, body: { title: 'renamed', priority: 'high' } },
    }),
  },
  'POST /api/v1/workers': { prepare: () => Promise.resolve({ request: { body: { name: 'agent' } } }) },
  'GET /api/v1/workers': none,
  'GET /api/v1/workers/:id': onWorker,
  'POST /api/v1/workers/:id/heartbeat': {
    async prepare(c) {
      const r = await running(c);
      return { request: { id: r.workerId, body: { leaseToken: r.leaseToken } } };
    },
  },
  'POST /api/v1/workers/:id/credential': {
    prepare: async (c) => ({ request: { id: (await worker(c)).id } }),
  },
  'POST /api/v1/workers/:id/crash': {
    async prepare(c) {
      const r = await running(c);
      return { request: { id: r.workerId, body: { reason: 'agent died' } } };
    },
  },
  'POST /api/v1/workers/:id/restart': {
    async prepare(c) {
      const r = await running(c);
      await c.workers.reportCrash(r.workerId, { reason: 'agent died' });
      return { request: { id: r.workerId } };
    },
  },
  'DELETE /api/v1/workers/:id': onWorker,
  'GET /api/v1/whoami': { prepare: () => Promise.resolve({ request: {} }) },
  'GET /api/v1/events': { prepare: () => Promise.resolve({ request: { query: { afterSeq: '0' } } }) },
  'POST /api/v1/queue/enqueue': {
    prepare: async (c) => ({ request: { body: { jobId: (await job(c, { hold: true })).id } } }),
  },
  'POST /api/v1/queue/claim': {
    async prepare(c) {
      const w = await worker(c);
      await job(c);
      return { request: { body: { workerId: w.id } } };
    },
  },
  'POST /api/v1/tasks/claim': {
    async prepare(c) {
      const w = await worker(c);
      await job(c);
      return { request: { body: { agentId: w.id } } };
    },
  },
  'POST /api/v1/queue/complete': {
    async prepare(c) {
      const r = await running(c);
      return { request: { body: { jobId: r.jobId, leaseToken: r.leaseToken, result: { ok: true } } } };
    },
  },
  'POST /api/v1/queue/fail': {
    async prepare(c) {
      const r = await running(c);
      return { request: { body: { jobId: r.jobId, leaseToken: r.leaseToken, reason: 'tests failed' } } };
    },
  },
  'GET /api/v1/queue/status': none,
  'POST /api/v1/workstreams': {
    prepare: () => Promise.resolve({ request: { body: definition(), query: { start: 'false' } } }),
  },
  'GET /api/v1/workstreams': none,
  'GET /api/v1/workstreams/:id': onWorkstream(true),
  'GET /api/v1/workstreams/:id/plan': onWorkstream(true),
  'POST /api/v1/workstreams/:id/start': onWorkstream(false),
  'POST /api/v1/workstreams/:id/cancel': onWorkstream(true),
  'POST /api/v1/workflows': {
    // A new version each time: two requests of this fixture differ.
    prepare: () =>
      Promise.resolve({
        request: {
          body: { yaml: EXAMPLE_WORKFLOW_YAML.replace('version: 1', `version: ${++workflowCounter}`) },
        },
      }),
  },
  'GET /api/v1/workflows': none,
  'POST /api/v1/tasks/transition': {
    async prepare(c) {
      const r = await runningWorkflowJob(c);
      return {
        request: { body: { jobId: r.jobId, currentPhase: 'PLAN', targetPhase: 'TDD', artifacts: {} } },
      };
    },
  },
  'GET /api/v1/state/snapshot': {
    async prepare(c) {
      const r = await runningWorkflowJob(c);
      return { request: { query: { jobId: r.jobId } } };
    },
  },
  'POST /api/v1/jobs/:id/evidence': {
    async prepare(c) {
      const r = await runningWorkflowJob(c);
      return {
        request: {
          id: r.jobId,
          body: {
            gate: 'all_tests_pass',
            treeHash: 'a'.repeat(40),
            exitCode: 0,
            report: 'TAP version 13\nok 1 - a\n1..1\n',
          },
        },
      };
    },
  },
  'GET /api/v1/jobs/:id/contract': {
    async prepare(c) {
      const r = await runningWorkflowJob(c);
      return { request: { id: r.jobId } };
    },
  },
  'POST /api/v1/tokens/refresh': {
    async prepare(c) {
      const r = await runningWorkflowJob(c);
      return { request: { body: { jobId: r.jobId } } };
    },
  },
  'GET /api/v1/workflows/:id': {
    async prepare(c) {
      const put = await c.workflows.put({ yaml: EXAMPLE_WORKFLOW_YAML });
      return { request: { id: put.name, query: { version: String(put.version) } } };
    },
  },
};

/** The call a prepared request makes on a route. */
export const callOf = (
  route: Route,
  req: RouteRequest,
  token: string | undefined,
  extraQuery: Record<string, string> = {},
): Call => ({
  method: route.method,
  url: urlOf(route, req.id),
  token,
  ...(req.body !== undefined ? { body: req.body } : {}),
  query: { ...req.query, ...extraQuery },
});
