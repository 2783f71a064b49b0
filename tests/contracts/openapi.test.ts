/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- the document is walked as untyped JSON */
import { embeddedAdmin } from '../../src/contracts/scopes.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commandTable } from '../../src/api/commands.ts';
import { JobSchema } from '../../src/contracts/job.ts';
import { SessionSchema } from '../../src/contracts/session.ts';
import { WorkerSchema } from '../../src/contracts/worker.ts';
import { ANSWERS, API_VERSION, buildOpenApi } from '../../src/http/openapi.ts';
import { PUBLIC_PATHS, routes, type Route } from '../../src/http/routes.ts';
import { createOverseer, type Overseer } from '../../src/index.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';
import { EXAMPLE_WORKFLOW_YAML } from '../../src/api/commands/workflows.ts';
import { buildPostman, generators, OPENAPI_PATH, POSTMAN_PATH, ROOT } from '../../scripts/gen.ts';

type Json = Record<string, any>;

const doc: Json = buildOpenApi();
const opPath = (route: Route) => route.path.replace(/:([^/]+)/g, '{$1}');
const opOf = (route: Route): Json => doc.paths[opPath(route)]?.[route.method.toLowerCase()];
const key = (route: Route) => `${route.method} ${route.path}`;
const operations = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ path, method, op: op as Json })),
);

/** Every `$ref` in a JSON value. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  return out;
}

/** The value a local JSON pointer (`#/components/schemas/Job`) names, or undefined. */
function resolve(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!at || typeof at !== 'object' || !(part in at)) return undefined;
    at = (at as Json)[part];
  }
  return at;
}

/** The object schema behind a schema or its `$ref`. */
const deref = (schema: Json): Json => (schema.$ref ? deref(resolve(doc, schema.$ref) as Json) : schema);

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the package version', () => {
    expect(doc.openapi).toBe('3.1.0');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(API_VERSION);
    expect(API_VERSION).toBe(pkg.version);
  });

  it('its server is wherever the document was fetched from (any host, port or gateway)', () => {
    const servers = doc.servers as { url: string }[];
    expect(servers).toHaveLength(1);
    for (const origin of ['http://127.0.0.1:18080', 'https://overseer.example:443'])
      expect(new URL(servers[0]!.url, `${origin}/openapi.json`).origin).toBe(new URL(origin).origin);
  });

  it('docs/openapi.json and the Postman collection are generated and up to date', () => {
    const entries = new Map(generators().map((g) => [g.path, g]));
    for (const path of [OPENAPI_PATH, POSTMAN_PATH]) {
      expect(entries.has(path), `${path} has no generator`).toBe(true);
      const onDisk = readFileSync(join(ROOT, path), 'utf8');
      expect(onDisk, `${path} drifted: run npm run gen`).toBe(entries.get(path)!.render());
      expect(onDisk.endsWith('}\n')).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(ROOT, OPENAPI_PATH), 'utf8'))).toEqual(doc);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(buildOpenApi())).toBe(JSON.stringify(doc));
  });

  it('has every route of the table with its method, command, scopes and success status', () => {
    for (const route of routes) {
      const op = opOf(route);
      expect(op, key(route)).toBeDefined();
      const command = commandTable.get(route.command)!;
      expect(op['x-command'], key(route)).toBe(route.command);
      expect(op['x-scopes'], key(route)).toEqual(command.scopes);
      expect(op.tags, key(route)).toEqual([route.tag]);
      expect(op.summary, key(route)).toBe(command.summary);
      for (const scope of command.scopes) expect(op.description, key(route)).toContain(`\`${scope}\``);
      expect(op.security, key(route)).toEqual([...command.scopes, 'admin'].map((s) => ({ bearerAuth: [s] })));
      expect(Object.keys(op.responses), key(route)).toContain(String(route.status ?? 200));
    }
    expect(operations.length).toBe(routes.length + PUBLIC_PATHS.length + 1); // + /metrics
  });

  it('every operation has a unique operationId, responses, tags, and security unless public', () => {
    const ids = operations.map((o) => o.op.operationId as string);
    expect(ids.every((id) => typeof id === 'string' && /^[A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set((doc.tags as { name: string }[]).map((t) => t.name));
    for (const { path, method, op } of operations) {
      expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
      expect(tags.has(op.tags[0]), `${method} ${path}: tag ${op.tags[0]}`).toBe(true);
      const isPublic = (PUBLIC_PATHS as readonly string[]).includes(path);
      if (isPublic) expect(op.security, path).toEqual([]);
      else expect(op.security.length, `${method} ${path}`).toBeGreaterThan(0);
    }
  });

  it('every $ref resolves', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(100);
    for (const ref of new Set(all)) expect(resolve(doc, ref), ref).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain('#/$defs/');
    expect(JSON.stringify(doc)).not.toContain('"$defs"');
  });

  it('declares every path parameter and names the field it fills', () => {
    for (const { path, method, op } of operations) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = ((op.parameters ?? []) as Json[]).filter((p) => p.in === 'path');
      expect(
        declared.map((p) => p.name),
        `${method} ${path}`,
      ).toEqual(inPath);
      for (const p of declared) expect(p.required).toBe(true);
    }
  });

  it('GET routes take their filters as query parameters, with limit and cursor on lists', () => {
    const params = (path: string) =>
      ((doc.paths[path].get.parameters ?? []) as Json[]).filter((p) => p.in === 'query').map((p) => p.name);
    expect(params('/api/jobs')).toEqual([
      'status',
      'priority',
      'parentJobId',
      'workstreamId',
      'type',
      'limit',
      'cursor',
      'workspaceId',
    ]);
    expect(params('/api/v1/tasks')).toEqual(params('/api/jobs'));
    expect(params('/api/supervisor/workers')).toEqual(['status', 'limit', 'cursor', 'workspaceId']);
    expect(params('/api/v1/events')).toEqual(['afterSeq', 'limit', 'workspaceId']);
    expect(params('/api/v1/workstreams')).toEqual(['status', 'limit', 'cursor', 'workspaceId']);
    expect(params('/api/jobs/{id}')).toEqual(['workspaceId']);
    for (const route of routes.filter((r) => r.method === 'GET'))
      expect(opOf(route).requestBody, key(route)).toBeUndefined();
  });

  it('request bodies leave out the path id, and routes that ignore the body declare none', () => {
    for (const route of routes) {
      const op = opOf(route);
      const input = route.input({ params: { id: 'ID' }, query: {}, body: { probe: 1 } }) as Json;
      const takesBody = input['probe'] === 1 || Object.values(input).some((v) => v?.probe === 1);
      if (!takesBody) {
        expect(op.requestBody, `${key(route)} ignores its body`).toBeUndefined();
        continue;
      }
      expect(op.requestBody, key(route)).toBeDefined();
      const schema = deref(op.requestBody.content['application/json'].schema);
      const pathField = Object.entries(input).find(([, v]) => v === 'ID')?.[0];
      if (pathField) {
        expect(Object.keys(schema.properties), key(route)).not.toContain(pathField);
        expect(schema.required ?? [], key(route)).not.toContain(pathField);
      }
    }
    const submit = deref(doc.paths['/api/jobs'].post.requestBody.content['application/json'].schema);
    expect(submit.required).toEqual(['title']);
    expect(doc.paths['/api/jobs'].post.requestBody.required).toBe(true);
    const workstream = doc.paths['/api/v1/workstreams'].post;
    expect(workstream.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/WorkstreamDefinition',
    });
    expect(workstream.parameters.map((p: Json) => p.name)).toContain('start');
  });

  it('every example body is accepted by its command', () => {
    let checked = 0;
    for (const route of routes) {
      const example = opOf(route).requestBody?.content['application/json'].example;
      if (example === undefined) continue;
      const input = route.input({ params: { id: 'job_x' }, query: {}, body: example });
      const parsed = commandTable.get(route.command)!.input.safeParse(input);
      expect(parsed.success, `${key(route)}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      checked++;
    }
    expect(checked).toBe(routes.filter((r) => opOf(r).requestBody).length);
  });

  it('state-changing routes take an Idempotency-Key, reads do not', () => {
    for (const route of routes) {
      const header = (opOf(route).parameters as Json[]).find((p) => p.name === 'Idempotency-Key');
      const mutates = commandTable.get(route.command)!.mutates;
      expect(mutates, `${key(route)}: only GET reads`).toBe(route.method !== 'GET');
      expect(Boolean(header), key(route)).toBe(mutates);
    }
  });

  it('Job, Worker and Session are components generated from the contracts', () => {
    for (const [id, schema] of [
      ['Job', JobSchema],
      ['Worker', WorkerSchema],
      ['Session', SessionSchema],
    ] as const) {
      const component = doc.components.schemas[id];
      expect(component, id).toBeDefined();
      const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Json;
      const direct = json.$defs?.[id] ?? json;
      expect(Object.keys(component.properties)).toEqual(Object.keys(direct.properties));
      expect(component.required).toEqual(direct.required);
    }
    expect(
      deref(
        opOf(routes.find((r) => r.command === 'jobs.get')!).responses['200'].content['application/json']
          .schema,
      ),
    ).toBe(doc.components.schemas.Job);
    const page = doc.components.schemas.JobPage;
    expect(page.properties.jobs).toEqual({ type: 'array', items: { $ref: '#/components/schemas/Job' } });
    expect(page.required).toEqual(['jobs', 'nextCursor']);
  });

  it('every command behind a route has an answer schema', () => {
    for (const route of routes) expect(ANSWERS[route.command], route.command).toBeDefined();
  });
});

describe('the answers match their documented schemas', () => {
  let dir: TempDataDir;
  let ov: Overseer;
  const seen = new Set<string>();

  /** Runs a command and checks its answer against its schema (no missing and no extra fields). */
  const run = async (name: string, input: unknown, principal = embeddedAdmin('contract')): Promise<Json> => {
    const answer = await ov.runtime.dispatch(name, 'contract', input, { principal });
    const plain = JSON.parse(JSON.stringify(answer)) as Json;
    const parsed = ANSWERS[name]!.safeParse(plain);
    expect(parsed.success, `${name}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    expect(parsed.data, `${name} answers fields its schema lacks`).toEqual(plain);
    seen.add(name);
    return plain;
  };

  beforeAll(async () => {
    dir = tempDataDir();
    ov = await createOverseer({ dataDir: dir.path, logLevel: 'silent', resources: { pools: { gpu: 2 } } });
  });
  afterAll(async () => {
    await ov.close();
    dir.remove();
  });

  it('for the main flow of every service', async () => {
    const worker = await run('workers.register', { name: 'a', capabilities: ['ts'] });
    await run('workers.credential', { workerId: worker.id });
    const job = await run('jobs.submit', { title: 't', capabilities: ['ts'], metadata: { k: 1 } });
    await run('jobs.update', { jobId: job.id, priority: 'high' });
    await run('jobs.get', { jobId: job.id });
    await run('jobs.list', { limit: 1 });
    await run('queue.stats', {});
    const claim = await run('queue.claim', { workerId: worker.id });
    expect(claim.job.id).toBe(job.id);
    await run('workers.heartbeat', { workerId: worker.id, leaseToken: claim.lease.token });
    await run('resources.allocate', { jobId: job.id, resources: [{ name: 'gpu' }] });
    await run('resources.usage', {});
    await run('resources.release', { jobId: job.id, resources: [{ name: 'gpu' }] });
    await run('resources.quotas', {});
    await run('supervisor.metrics', {});
    await run('workers.pause', { workerId: worker.id });
    await run('workers.resume', { workerId: worker.id });
    const second = await run('jobs.submit', { title: 'u', capabilities: ['ts'] });
    await run('queue.complete', { jobId: job.id, leaseToken: claim.lease.token, result: 1, claimNext: true });
    const next = await run('workers.get', { workerId: worker.id });
    expect(next.jobId).toBe(second.id);
    const running = await run('jobs.get', { jobId: second.id });
    expect(running.status).toBe('RUNNING');
    await run('workers.reportCrash', { workerId: worker.id, reason: 'boom' });
    await run('workers.restart', { workerId: worker.id });
    await run('workers.terminate', { workerId: worker.id });
    await run('workers.list', {});
    const held = await run('jobs.submit', { title: 'h', hold: true });
    await run('queue.enqueue', { jobId: held.id });
    await run('jobs.cancel', { jobId: held.id });
    const other = await run('workers.register', { name: 'b' });
    const third = await run('jobs.submit', { title: 'v' });
    const c2 = await run('queue.claim', { workerId: other.id });
    expect(c2.job.id).toBe(third.id);
    await run('queue.fail', { jobId: third.id, leaseToken: c2.lease.token, reason: 'no', retryable: false });
    await run('workers.deregister', { workerId: other.id });
    const idle = await run('workers.register', { name: 'c' });
    await run('queue.claim', { workerId: idle.id });
    const ws = await run('workstreams.submit', {
      definition: {
        schema_version: '2.0.0',
        workstream_id: 'w',
        name: 'w',
        tasks: [
          { task_id: 'a', name: 'a', type: 'docs' },
          { task_id: 'b', name: 'b', type: 'research', dependencies: ['a'] },
        ],
      },
      start: false,
    });
    await run('workstreams.get', { workstreamId: ws.id });
    await run('workstreams.list', {});
    await run('workstreams.plan', { workstreamId: ws.id });
    await run('workstreams.start', { workstreamId: ws.id });
    await run('workstreams.cancel', { workstreamId: ws.id });
    await run('events.list', { limit: 5 });
    await run('auth.whoami', {});
    const put = await run('workflows.put', { yaml: EXAMPLE_WORKFLOW_YAML });
    await run('workflows.put', { workflow: { ...put.workflow, version: 2 } });
    await run('workflows.list', {});
    expect((await run('workflows.get', { name: 'quick' })).version).toBe(2);
    const followed = await run('jobs.submit', { title: 'w', workflow: 'quick@1' });
    expect(followed.workflow).toEqual({ name: 'quick', version: 1 });
    const urgent = await run('jobs.submit', { title: 'w', workflow: 'quick@1', priority: 'high' });
    const agent = await run('workers.register', { name: 'wf', capabilities: ['ts'] });
    const wfClaim = await run('queue.claim', { workerId: agent.id });
    expect(wfClaim.job.id).toBe(urgent.id);
    const phase = await ov.authenticate(wfClaim.phaseToken.token as string);
    const moved = await run(
      'workflow.transition',
      {
        currentPhase: 'PLAN',
        targetPhase: 'BUILD',
        artifacts: { plan: { summary: 's', acceptance_criteria: ['c'] } },
      },
      phase,
    );
    expect(moved).toMatchObject({ allowed: true, phase: 'BUILD' });
    const build = await ov.authenticate(moved.phaseToken.token as string);
    expect((await run('state.snapshot', {}, build)).phase.phase).toBe('BUILD');
    expect((await run('tokens.refresh', {}, build)).phase).toBe('BUILD');
    expect((await run('workflow.contract', { jobId: urgent.id }, build)).markdown).toContain(
      '### 2. BUILD (current)',
    );
    expect((await run('jobs.get', { jobId: urgent.id })).phase.phase).toBe('BUILD');
    const credential = await ov.authenticate(agent.credential.token as string);
    const sent = await run(
      'workflow.evidence',
      {
        jobId: urgent.id,
        gate: 'all_tests_pass',
        treeHash: 'a'.repeat(40),
        exitCode: 0,
        report: 'TAP version 13\nok 1 - adds\n1..1\n',
      },
      credential,
    );
    expect(sent).toMatchObject({ evidence: 'verified', readable: true });
    const routed = new Set(routes.map((r) => r.command));
    expect([...routed].filter((c) => !seen.has(c))).toEqual([]);
  });
});

describe('the Postman collection', () => {
  const collection: Json = buildPostman(doc as never);
  const requests = (collection.item as Json[]).flatMap((folder) =>
    (folder.item as Json[]).map((item): Json => ({ ...item, folder: folder.name })),
  );

  it('is a v2.1 collection with baseUrl and token variables and bearer auth', () => {
    expect(collection.info.schema).toBe(
      'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    );
    expect(collection.variable).toEqual([
      { key: 'baseUrl', value: 'http://127.0.0.1:8080', type: 'string' },
      { key: 'token', value: '', type: 'string' },
    ]);
    expect(collection.auth).toEqual({
      type: 'bearer',
      bearer: [{ key: 'token', value: '{{token}}', type: 'string' }],
    });
    expect((collection.item as Json[]).map((f) => f.name)).toEqual((doc.tags as Json[]).map((t) => t.name));
  });

  it('has one request per route in the folder of its tag, with :id variables and example bodies', () => {
    for (const route of routes) {
      const matches = requests.filter(
        (r) => r.request.method === route.method && r.request.url.raw === `{{baseUrl}}${route.path}`,
      );
      expect(matches.length, key(route)).toBe(1);
      const [req] = matches;
      expect(req!.folder).toBe(route.tag);
      expect(req!.request.url.path).toEqual(route.path.split('/').filter(Boolean));
      const vars = [...route.path.matchAll(/:([^/]+)/g)].map((m) => m[1]);
      expect((req!.request.url.variable ?? []).map((v: Json) => v.key)).toEqual(vars);
      const example = opOf(route).requestBody?.content['application/json'].example;
      if (example !== undefined) {
        expect(JSON.parse(req!.request.body.raw)).toEqual(example);
        expect(req!.request.header).toContainEqual({ key: 'Content-Type', value: 'application/json' });
      } else expect(req!.request.body).toBeUndefined();
      expect(req!.request.auth).toBeUndefined();
    }
    expect(requests.length).toBe(operations.length);
  });

  it('public routes need no token', () => {
    for (const path of PUBLIC_PATHS) {
      const req = requests.find((r) => r.request.url.raw === `{{baseUrl}}${path}`)!;
      expect(req.request.auth, path).toEqual({ type: 'noauth' });
    }
  });
});
