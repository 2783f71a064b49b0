import { z } from 'zod';
import { ErrorCodes, type ErrorCode } from '../core/errors.ts';
import { IdempotencyKeySchema, WorkspaceIdSchema } from '../contracts/common.ts';
import { JobSchema, JobStatusSchema } from '../contracts/job.ts';
import { JournalRecordSchema } from '../contracts/journal.ts';
import { AllocationSchema, QuotaSchema, UsageSchema } from '../contracts/resources.ts';
import { SessionSchema } from '../contracts/session.ts';
import { DirectiveSchema, WorkerSchema, WorkerStatusSchema } from '../contracts/worker.ts';
import { WorkstreamPlanSchema, WorkstreamSchema } from '../contracts/workstream.ts';
import type { CommandDef } from '../api/command.ts';
import { commandTable } from '../api/commands.ts';
import { BODY_LIMIT } from './server.ts';
import { PUBLIC_PATHS, routes, type Route } from './routes.ts';

type Json = Record<string, unknown>;

/** The version of the API the document describes (the package's). */
export const API_VERSION = '0.1.0';

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);
const sortKeys = <T>(o: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(o).sort(byKey));

/** JSON with sorted keys, to compare schemas whatever order their keys came in. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, value: unknown) => (isObject(value) ? sortKeys(value) : value));

// ── answers: the shapes commands return, from the contract schemas ──

const Lease = z.object({ token: z.string(), expiresAt: z.number() });
const WorkOrder = z.object({
  jobId: z.string(),
  workerId: z.string(),
  claimedAt: z.number(),
  retryCount: z.number(),
});
const ClaimAnswer = z
  .object({ job: JobSchema.nullable(), lease: Lease.optional(), workOrder: WorkOrder.optional() })
  .meta({
    id: 'ClaimAnswer',
    description: 'The claimed job with its lease, or `{ job: null }` when none fits.',
  });
const PriorityCounts = z
  .object({ high: z.number().int(), normal: z.number().int(), low: z.number().int() })
  .meta({ id: 'PriorityCounts' });
const JobCounts = z
  .partialRecord(JobStatusSchema, z.number().int())
  .meta({ id: 'JobCounts', description: 'Jobs by status; statuses with none are left out.' });
const WorkerCounts = z
  .partialRecord(WorkerStatusSchema, z.number().int())
  .meta({ id: 'WorkerCounts', description: 'Workers by status; statuses with none are left out.' });

const HeartbeatAnswer = z
  .object({ directive: DirectiveSchema, leaseExpiresAt: z.number().nullable() })
  .meta({ id: 'HeartbeatAnswer' });

/** What each command answers (the document's success schemas; tests parse real answers with them). */
export const ANSWERS: Readonly<Record<string, z.ZodType>> = {
  'jobs.submit': JobSchema,
  'jobs.get': JobSchema,
  'jobs.update': JobSchema,
  'jobs.cancel': JobSchema,
  'jobs.list': z
    .object({ jobs: z.array(JobSchema), nextCursor: z.string().nullable() })
    .meta({ id: 'JobPage', description: 'A page of jobs; pass `nextCursor` as `cursor` for the next one.' }),
  'jobs.submitMany': z.object({ jobs: z.array(JobSchema) }).meta({ id: 'JobBatch' }),
  'auth.whoami': z
    .object({ sub: z.string(), workspaceId: z.string() })
    .meta({ id: 'WhoAmI', description: "The token's subject and the workspace its calls run in." }),
  'queue.enqueue': JobSchema,
  'queue.claim': ClaimAnswer,
  'queue.complete': z
    .object({ job: JobSchema, next: ClaimAnswer.optional() })
    .meta({ id: 'CompleteAnswer', description: 'The job; with `claimNext`, the next claim as `next`.' }),
  'queue.fail': JobSchema,
  'queue.heartbeat': HeartbeatAnswer,
  'queue.stats': z.object({ depth: PriorityCounts, jobs: JobCounts }).meta({ id: 'QueueStats' }),
  'resources.quotas': z
    .object({
      depth: z.array(QuotaSchema),
      workspace: QuotaSchema,
      pools: z.record(z.string(), z.number().int()),
    })
    .meta({ id: 'Quotas', description: 'Quotas per depth (index 0–5) and per workspace, and pool sizes.' }),
  'resources.usage': z
    .object({
      byDepth: z.array(UsageSchema),
      workspace: UsageSchema,
      pools: z.record(z.string(), z.object({ size: z.number().int(), used: z.number().int() })),
      locks: z.record(z.string(), z.string()),
    })
    .meta({
      id: 'ResourceUsage',
      description: 'Usage per depth and per workspace, pools, and locks → holder.',
    }),
  'resources.allocate': z.object({ allocation: AllocationSchema }).meta({ id: 'AllocateAnswer' }),
  'resources.release': z.object({ allocation: AllocationSchema.nullable() }).meta({ id: 'ReleaseAnswer' }),
  'workers.heartbeat': HeartbeatAnswer,
  'workers.register': WorkerSchema,
  'workers.get': WorkerSchema,
  'workers.list': z.object({ workers: z.array(WorkerSchema), nextCursor: z.string().nullable() }).meta({
    id: 'WorkerPage',
    description: 'A page of workers; pass `nextCursor` as `cursor` for the next one.',
  }),
  'workers.pause': WorkerSchema,
  'workers.resume': WorkerSchema,
  'workers.terminate': WorkerSchema,
  'workers.reportCrash': WorkerSchema,
  'workers.restart': WorkerSchema,
  'workers.deregister': WorkerSchema,
  'sessions.open': SessionSchema,
  'sessions.get': SessionSchema,
  'sessions.touch': SessionSchema,
  'sessions.idle': SessionSchema,
  'sessions.close': SessionSchema,
  'workstreams.submit': WorkstreamSchema,
  'workstreams.get': WorkstreamSchema,
  'workstreams.plan': WorkstreamPlanSchema,
  'workstreams.start': WorkstreamSchema,
  'workstreams.cancel': WorkstreamSchema,
  'supervisor.metrics': z
    .object({
      workers: WorkerCounts,
      jobs: JobCounts,
      queueDepth: PriorityCounts,
      resources: z.array(z.object({ depth: z.number().int() }).extend(UsageSchema.shape)),
      transitionsPerMinute: z.number().int(),
    })
    .meta({ id: 'SupervisorMetrics' }),
  'events.list': z
    .object({ events: z.array(JournalRecordSchema), nextCursor: z.number().int().nullable() })
    .meta({
      id: 'EventPage',
      description: 'Journal records; pass `nextCursor` as `afterSeq` for the next ones.',
    }),
};

// ── examples of request bodies (without the path's id); tests parse each with its command's schema ──

const JOB_ID = 'job_01JZ8Q4T6YH3M5N7P9R2S4T6V8';
const WORKER_ID = 'wrk_01JZ8Q5A2BC4D6E8F0G2H4J6K8';
const EXAMPLES: Record<string, unknown> = {
  'jobs.submit': {
    title: 'Add a login page',
    description: 'GitHub OAuth, with tests.',
    type: 'feature',
    priority: 'high',
    repositoryUrl: 'https://github.com/acme/web',
    branchName: 'feat/login',
    capabilities: ['typescript'],
    execution: { command: 'npm test', timeoutSeconds: 3600, maxRetries: 3 },
    metadata: { ticket: 'WEB-42' },
  },
  'jobs.update': { priority: 'high', title: 'Add a login page (GitHub and Google)' },
  'jobs.cancel': { reason: 'No longer needed.' },
  'queue.enqueue': { jobId: JOB_ID },
  'queue.claim': { workerId: WORKER_ID, waitMs: 5000 },
  'queue.complete': { jobId: JOB_ID, leaseToken: '1', result: { pullRequest: 42 }, claimNext: false },
  'queue.fail': { jobId: JOB_ID, leaseToken: '1', reason: 'The tests failed.', retryable: true },
  'resources.allocate': {
    jobId: JOB_ID,
    resources: [{ name: 'gpu', count: 1 }, { name: 'path:src/auth/' }],
    waitMs: 1000,
  },
  'resources.release': { jobId: JOB_ID, resources: [{ name: 'gpu', count: 1 }] },
  'workers.register': { name: 'agent-1', capabilities: ['typescript'], metadata: { host: 'box-1' } },
  'workers.heartbeat': { leaseToken: '1' },
  'workers.terminate': { reason: 'Stuck for an hour.' },
  'workers.reportCrash': { reason: 'The agent exited with code 137.' },
  'workstreams.submit': {
    schema_version: '2.0.0',
    workstream_id: 'auth-revamp',
    name: 'Auth revamp',
    tasks: [
      {
        task_id: 'design',
        name: 'Design the login flow',
        type: 'docs',
        execution: { estimated_seconds: 600 },
      },
      {
        task_id: 'build',
        name: 'Build the login flow',
        type: 'feature',
        dependencies: ['design'],
        worker_requirements: { capabilities: ['typescript'] },
        execution: { command: 'npm test', timeout_seconds: 3600, max_retries: 2 },
      },
    ],
  },
  'workstreams.cancel': { reason: 'Superseded.' },
};

// ── errors ──

/** Codes only some routes can answer; every other code (but DATA_DIR_LOCKED) applies to every route. */
const ERROR_SCOPE: Partial<Record<ErrorCode, (route: Route, command: CommandDef) => boolean>> = {
  DEPENDENCY_CYCLE: (_r, c) => c.name === 'workstreams.submit',
  MAX_DEPTH_EXCEEDED: (_r, c) => c.name === 'jobs.submit',
  INVALID_STATE_TRANSITION: (_r, c) =>
    c.mutates && !['workers.register', 'workstreams.submit'].includes(c.name),
  LEASE_LOST: (_r, c) =>
    ['queue.complete', 'queue.fail', 'queue.heartbeat', 'workers.heartbeat'].includes(c.name),
  DEADLOCK_DETECTED: (_r, c) => c.name === 'resources.allocate',
  QUOTA_EXCEEDED: (_r, c) => c.name === 'resources.allocate',
  PAYLOAD_TOO_LARGE: (r) => r.method !== 'GET',
  UNSUPPORTED_MEDIA_TYPE: (r) => r.method !== 'GET',
  IDEMPOTENCY_KEY_REUSED: (_r, c) => c.mutates,
  DATA_DIR_LOCKED: () => false,
};

/** The codes that travel over HTTP. */
export const HTTP_ERROR_CODES = (Object.keys(ErrorCodes) as ErrorCode[]).filter(
  (c) => c !== 'DATA_DIR_LOCKED',
);

const codesOf = (route: Route, command: CommandDef) =>
  HTTP_ERROR_CODES.filter((code) => ERROR_SCOPE[code]?.(route, command) ?? true);

const ERROR_HEADERS: Record<number, Json> = {
  405: { Allow: { description: 'The methods this path accepts.', schema: { type: 'string' } } },
  429: {
    'Retry-After': {
      description: 'Seconds to wait (RATE_LIMITED).',
      schema: { type: 'integer', minimum: 1 },
    },
  },
};

/** One error answer: its codes (`x-error-codes`) with an example of each. */
function errorResponse(status: number, codes: readonly ErrorCode[]): Json {
  return {
    description: codes.map((c) => `\`${c}\`: ${ErrorCodes[c].message}`).join('\n\n'),
    ...(ERROR_HEADERS[status] ? { headers: ERROR_HEADERS[status] } : {}),
    content: {
      'application/json': {
        schema: { $ref: '#/components/schemas/ErrorEnvelope' },
        examples: Object.fromEntries(codes.map((c) => [c, { $ref: `#/components/examples/${c}` }])),
      },
    },
    'x-error-codes': codes,
  };
}

/** Error answers by status, as references to `components.responses` (named by their codes), which it fills. */
function errorResponses(codes: readonly ErrorCode[], responses: Record<string, Json>): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const { status } = ErrorCodes[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => {
        const name = list.join('_or_');
        responses[name] ??= errorResponse(status, list);
        return [String(status), { $ref: `#/components/responses/${name}` }];
      }),
  );
}

// ── components: every zod schema with a `.meta({ id })` becomes `#/components/schemas/<id>` ──

/**
 * The document's schemas, converted with `z.toJSONSchema` one at a time; their `$defs` (the schemas with an id)
 * move to `components.schemas`. A schema whose input and output shapes differ (defaults) keeps its id for the
 * output and gets `<id>Input` for the input.
 */
class Components {
  readonly schemas: Record<string, Json> = {};
  readonly responses: Record<string, Json> = {};

  /** The JSON Schema of `schema`: a `$ref` when it has an id, else inline (referring to components). */
  add(schema: z.ZodType, io: 'input' | 'output'): Json {
    const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
    delete out['$schema'];
    const defs = (out['$defs'] ?? {}) as Record<string, Json>;
    delete out['$defs'];
    const rootId = z.globalRegistry.get(schema)?.id;
    if (typeof rootId === 'string' && !(rootId in defs)) {
      defs[rootId] = out;
      return this.place(defs, io, rootId);
    }
    return this.place(defs, io, null, out);
  }

  /** Names the defs (renaming input variants that clash), stores them and answers the root. */
  private place(
    defs: Record<string, Json>,
    io: 'input' | 'output',
    rootId: string | null,
    root?: Json,
  ): Json {
    const names = new Map<string, string>();
    // Leaves first: whether a def clashes depends on the names of the defs it refers to.
    for (const id of leavesFirst(defs)) {
      const content = canonical(rewrite(defs[id], names));
      const existing = this.schemas[id];
      if (!existing || canonical(existing) === content) names.set(id, id);
      else {
        const alt = this.schemas[`${id}Input`];
        if (io === 'output' || (alt && canonical(alt) !== content))
          throw new Error(`two different schemas are named ${id}`);
        names.set(id, `${id}Input`);
      }
      this.schemas[names.get(id)!] = rewrite(defs[id], names) as Json;
    }
    if (rootId !== null) return { $ref: `#/components/schemas/${names.get(rootId)!}` };
    return rewrite(root, names) as Json;
  }

  /** The object schema behind a schema or its `$ref`. */
  deref(schema: Json): Json {
    const ref = schema['$ref'];
    if (typeof ref !== 'string') return schema;
    return this.deref(this.schemas[ref.slice('#/components/schemas/'.length)]!);
  }
}

/** The ids of `defs`, each after the defs it refers to. */
function leavesFirst(defs: Record<string, Json>): string[] {
  const order: string[] = [];
  const visit = (id: string, path: readonly string[]) => {
    if (order.includes(id)) return;
    if (path.includes(id)) throw new Error(`recursive schema ${[...path, id].join(' → ')}`);
    for (const ref of refsIn(defs[id])) visit(ref, [...path, id]);
    order.push(id);
  };
  for (const id of Object.keys(defs)) visit(id, []);
  return order;
}

function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
      ? [decodeURIComponent(v.slice('#/$defs/'.length))]
      : refsIn(v),
  );
}

/** A converted schema with its `#/$defs/<id>` references pointing into components. */
function rewrite(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, names));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .map(([k, v]) => {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
          const id = decodeURIComponent(v.slice('#/$defs/'.length));
          if (!names.has(id)) throw new Error(`unresolved reference ${v}`);
          return [k, `#/components/schemas/${names.get(id)!}`];
        }
        return [k, rewrite(v, names)];
      })
      // zod writes the safe-integer range on every `.int()`; it says nothing a reader needs.
      .filter(([k, v]) => !(k === 'minimum' && v === Number.MIN_SAFE_INTEGER))
      .filter(([k, v]) => !(k === 'maximum' && v === Number.MAX_SAFE_INTEGER)),
  );
}

// ── how a route builds its command's input (probed, so the document follows routes.ts) ──

const PROBE = '__probe__';
const PATH_ID = '__path_id__';

interface RouteShape {
  /** The input field the path's `:id` fills. */
  pathField: string | undefined;
  /** The body is (part of) the input. */
  takesBody: boolean;
  /** The body is this one field of the input. */
  bodyField: string | undefined;
  /** Query parameters are input fields. */
  takesQuery: boolean;
}

function shapeOf(route: Route): RouteShape {
  const input = route.input({
    params: { id: PATH_ID },
    query: { [PROBE]: 'query' },
    body: { [PROBE]: 'body' },
  }) as Json;
  const entries = Object.entries(input);
  return {
    pathField: entries.find(([, v]) => v === PATH_ID)?.[0],
    takesBody: input[PROBE] === 'body',
    bodyField: entries.find(([, v]) => isObject(v) && v[PROBE] === 'body')?.[0],
    takesQuery: input[PROBE] === 'query',
  };
}

const toOpenApiPath = (path: string) => path.replace(/:([^/]+)/g, '{$1}');
const operationIdOf = (route: Route) =>
  `${route.method.toLowerCase()}${toOpenApiPath(route.path)
    .replace(/[{}]/g, '')
    .replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase())}`;

/** `security`: any one of the command's scopes, or admin. */
const securityOf = (scopes: readonly string[]) =>
  [...scopes, ...(scopes.includes('admin') ? [] : ['admin'])].map((s) => ({ bearerAuth: [s] }));

function operation(route: Route, components: Components): Json {
  const command = commandTable.get(route.command);
  if (!command) throw new Error(`route ${route.method} ${route.path} names no command ${route.command}`);
  const answer = ANSWERS[command.name];
  if (!answer) throw new Error(`the document has no answer schema for ${command.name}`);
  const shape = shapeOf(route);
  const input = components.deref(components.add(command.input, 'input'));
  const props = (input['properties'] ?? {}) as Record<string, Json>;
  const required = new Set((input['required'] ?? []) as string[]);

  const parameters: Json[] = [];
  for (const m of route.path.matchAll(/:([^/]+)/g)) {
    parameters.push({
      name: m[1],
      in: 'path',
      required: true,
      description: shape.pathField ? `The \`${shape.pathField}\`.` : undefined,
      schema: (shape.pathField && props[shape.pathField]) || { type: 'string' },
    });
  }
  if (shape.takesQuery) {
    for (const [name, schema] of Object.entries(props)) {
      if (name === shape.pathField) continue;
      parameters.push({ name, in: 'query', required: required.has(name), schema });
    }
  }
  if (shape.bodyField) {
    // The other fields of a wrapped body come from the query (`POST /api/v1/workstreams?start=false`).
    for (const name of Object.keys(props).filter((p) => p !== shape.bodyField)) {
      const probe = route.input({ params: {}, query: { [name]: 'false' }, body: {} }) as Json;
      if (probe[name] !== false) throw new Error(`${route.path}: cannot tell how ${name} is passed`);
      parameters.push({
        name,
        in: 'query',
        required: false,
        description: `\`false\` sets \`${name}: false\`.`,
        schema: { type: 'string', enum: ['true', 'false'], default: 'true' },
      });
    }
  }
  parameters.push({
    name: 'workspaceId',
    in: 'query',
    required: false,
    description: 'Admin tokens only: the workspace to act in (others always act in their own).',
    schema: components.add(WorkspaceIdSchema, 'input'),
  });
  if (command.mutates)
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'A replay with the same key and payload answers the first answer; another payload is 422.',
      schema: components.add(IdempotencyKeySchema, 'input'),
    });

  let requestBody: Json | undefined;
  if (shape.takesBody || shape.bodyField) {
    let schema: Json;
    if (shape.bodyField) schema = props[shape.bodyField]!;
    else if (shape.pathField) {
      const { [shape.pathField]: _id, ...rest } = props;
      const { required: _required, ...object } = input;
      const restRequired = [...required].filter((r) => r in rest);
      schema = { ...object, properties: rest, ...(restRequired.length ? { required: restRequired } : {}) };
    } else schema = components.add(command.input, 'input');
    const bodyProps = components.deref(schema)['properties'] as Json | undefined;
    if (bodyProps && Object.keys(bodyProps).length > 0) {
      const bodyRequired = ((components.deref(schema)['required'] ?? []) as string[]).length > 0;
      const example = EXAMPLES[command.name];
      requestBody = {
        required: bodyRequired,
        content: { 'application/json': { schema, ...(example !== undefined ? { example } : {}) } },
      };
    }
  }

  const scopes = command.scopes.map((s) => `\`${s}\``).join(' or ');
  const aliases = routes
    .filter((r) => r.command === route.command && r !== route)
    .map((r) => `\`${r.method} ${r.path}\``);
  return {
    tags: [route.tag],
    summary: command.summary,
    description: [
      `Command \`${command.name}\`. Scopes: ${scopes} (or \`admin\`, in any workspace with \`?workspaceId=\`).`,
      ...(aliases.length ? [`The same command as ${aliases.join(', ')}.`] : []),
      ...(command.mutates ? ['Takes an `Idempotency-Key`.'] : []),
    ].join(' '),
    operationId: operationIdOf(route),
    'x-command': command.name,
    'x-scopes': command.scopes,
    security: securityOf(command.scopes),
    parameters: parameters.map((p) =>
      Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)),
    ),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      [String(route.status ?? 200)]: {
        description: command.summary,
        content: { 'application/json': { schema: components.add(answer, 'output') } },
      },
      ...errorResponses(codesOf(route, command), components.responses),
    },
  };
}

// ── operations outside the command table ──

const json = (schema: Json) => ({ 'application/json': { schema } });
/** `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and `/docs`. */
const operations = (responses: Record<string, Json>): Record<string, Json> => ({
  '/healthz': {
    get: {
      tags: ['operations'],
      summary: 'Liveness.',
      operationId: 'healthz',
      security: [],
      responses: {
        200: {
          description: 'Alive.',
          content: json({ type: 'object', properties: { status: { const: 'ok' } } }),
        },
      },
    },
  },
  '/readyz': {
    get: {
      tags: ['operations'],
      summary: 'Readiness: whether the runtime takes commands.',
      operationId: 'readyz',
      security: [],
      responses: {
        200: {
          description: 'Ready.',
          content: json({ type: 'object', properties: { status: { const: 'ready' } } }),
        },
        ...errorResponses(['STORAGE_UNAVAILABLE'], responses),
      },
    },
  },
  '/metrics': {
    get: {
      tags: ['operations'],
      summary: 'Prometheus metrics (any valid token).',
      operationId: 'metrics',
      'x-scopes': [],
      security: [{ bearerAuth: [] }],
      responses: {
        200: {
          description: 'The Prometheus text format.',
          content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
        },
        ...errorResponses(['UNAUTHENTICATED', 'TOKEN_EXPIRED', 'RATE_LIMITED'], responses),
      },
    },
  },
  '/openapi.json': {
    get: {
      tags: ['operations'],
      summary: 'This document.',
      operationId: 'openapi',
      security: [],
      responses: { 200: { description: 'OpenAPI 3.1.', content: json({ type: 'object' }) } },
    },
  },
  '/docs': {
    get: {
      tags: ['operations'],
      summary: 'The interactive API reference (Swagger UI, served from the npm package).',
      operationId: 'docs',
      security: [],
      responses: { 200: { description: 'HTML.', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  },
});

const TAGS: Record<string, string> = {
  supervisor: 'Supervise workers: list, inspect, pause, resume, terminate; fleet metrics.',
  resources: 'Quotas, usage, and named resources (locks and pools) of running jobs.',
  jobs: 'Submit, list, inspect and cancel jobs.',
  tasks: "The same jobs under the queue specification's names.",
  workers: 'Register workers (agents), heartbeat, report crashes, restart, deregister.',
  auth: 'Who the bearer token is.',
  events: "This workspace's journal: every state an object passed through.",
  queue: 'Claim work under a lease, complete it or fail it.',
  workstreams: 'DAGs of jobs from task definitions v2.',
  operations: 'Health, readiness, metrics and this document.',
};

/** The OpenAPI 3.1 document: every route, its command's schemas, scopes and error codes. */
export function buildOpenApi(): Json {
  const components = new Components();
  // Answers first, so the output shapes keep the plain ids.
  for (const answer of Object.values(ANSWERS)) components.add(answer, 'output');
  components.add(SessionSchema, 'output');
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    (paths[toOpenApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation(route, components);
  }
  const ops = operations(components.responses);
  for (const p of PUBLIC_PATHS) if (!ops[p]) throw new Error(`public path ${p} is not documented`);
  const tags = [...new Set([...routes.map((r) => r.tag), 'operations'])];
  for (const t of tags) if (!TAGS[t]) throw new Error(`tag ${t} has no description`);

  const ErrorCode = {
    type: 'string',
    enum: HTTP_ERROR_CODES,
    description: HTTP_ERROR_CODES.map(
      (c) =>
        `- \`${c}\` (${ErrorCodes[c].status}, ${ErrorCodes[c].retryable ? 'retryable' : 'not retryable'}): ${ErrorCodes[c].message}`,
    ).join('\n'),
  };
  const ErrorEnvelope = {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message', 'details'],
        properties: {
          code: { $ref: '#/components/schemas/ErrorCode' },
          message: { type: 'string', description: 'One line that says what to do.' },
          details: { type: 'object', additionalProperties: true },
        },
      },
    },
    description: 'Every error, on every route.',
  };
  const schemas = { ...components.schemas, ErrorCode, ErrorEnvelope };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Overseer API',
      version: API_VERSION,
      description: [
        "The control plane for fleets of AI coding agents. Every route calls one command of the runtime's",
        'command table (`x-command`), with the scopes in `x-scopes` (any one of them, or `admin`).',
        `Bodies are JSON, at most ${BODY_LIMIT / 1024} KiB. Lists answer \`{ <plural>, nextCursor }\`.`,
        'Errors are always `{ "error": { "code", "message", "details" } }`; whether to retry comes from the',
        'code (see `ErrorCode`), never from the message.',
      ].join(' '),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative: it resolves against wherever the document was fetched from (any host, port or gateway).
    servers: [{ url: '/', description: 'the server that served this document' }],
    tags: tags.map((name) => ({ name, description: TAGS[name] })),
    paths: { ...paths, ...ops },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'An API token (`overseer token create`); its scopes are the role names of `security`.',
        },
      },
      schemas: sortKeys(schemas),
      responses: sortKeys(components.responses),
      examples: Object.fromEntries(
        HTTP_ERROR_CODES.map((c) => [
          c,
          {
            summary: c,
            value: { error: { code: c, message: ErrorCodes[c].message, details: {} } },
          },
        ]),
      ),
    },
  };
}
