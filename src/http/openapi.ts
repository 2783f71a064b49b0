import { z } from 'zod';
import { ErrorCodes } from '../core/errors.ts';
import { commandTable } from '../api/commands.ts';
import { BODY_LIMIT } from './server.ts';
import { PUBLIC_PATHS, routes, type Route } from './routes.ts';

type Json = Record<string, unknown>;

const toOpenApiPath = (path: string) => path.replace(/:([^/]+)/g, '{$1}');

/** A zod schema as JSON Schema (the input side: defaults make fields optional). */
function jsonSchema(schema: z.ZodType): Json {
  const out = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Json;
  delete out['$schema'];
  return out;
}

const ErrorEnvelope: Json = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string', enum: Object.keys(ErrorCodes) },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
});

/** Which error codes a route can answer, by HTTP status. */
function errorResponses(route: Route): Json {
  const codes = Object.entries(ErrorCodes).filter(([code]) => code !== 'DATA_DIR_LOCKED');
  const byStatus = new Map<number, string[]>();
  for (const [code, { status }] of codes) {
    if (
      route.method === 'GET' &&
      ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'IDEMPOTENCY_KEY_REUSED'].includes(code)
    )
      continue;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [String(status), errorResponse(list.join(' | '))]),
  );
}

/** The OpenAPI 3.1 document: every route, its command's schema, scopes and error codes. */
export function buildOpenApi(): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const command = commandTable.get(route.command)!;
    const path = toOpenApiPath(route.path);
    const params = [...route.path.matchAll(/:([^/]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const input = jsonSchema(command.input);
    const props = (input['properties'] ?? {}) as Record<string, Json>;
    const required = new Set((input['required'] ?? []) as string[]);
    const query: Json[] = [];
    if (route.method === 'GET') {
      for (const [name, schema] of Object.entries(props)) {
        if (['jobId', 'workerId', 'workstreamId', 'sessionId'].includes(name)) continue;
        query.push({ name, in: 'query', required: required.has(name), schema });
      }
    }
    query.push({
      name: 'workspaceId',
      in: 'query',
      required: false,
      description: 'admin only: the workspace to act in',
      schema: { type: 'string' },
    });
    const operation: Json = {
      operationId: `${route.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase())}`,
      summary: command.summary,
      tags: [route.tag],
      'x-command': command.name,
      'x-scopes': command.scopes,
      security: [{ bearerAuth: [] }],
      description: `Command \`${command.name}\`. Scopes: ${command.scopes.map((s) => `\`${s}\``).join(' or ')} (or \`admin\`).`,
      parameters: [
        ...params,
        ...query,
        ...(route.method !== 'GET'
          ? [
              {
                name: 'Idempotency-Key',
                in: 'header',
                required: false,
                schema: { type: 'string', maxLength: 255 },
              },
            ]
          : []),
      ],
      responses: {
        [String(route.status ?? 200)]: {
          description: 'OK',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
        ...errorResponses(route),
      },
    };
    if (route.method !== 'GET' && route.method !== 'DELETE') {
      const bodySchema =
        route.command === 'workstreams.submit'
          ? (props['definition'] ?? {})
          : stripPathFields(input, params.length > 0);
      operation['requestBody'] = { required: false, content: { 'application/json': { schema: bodySchema } } };
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  const ops: Record<string, Json> = {
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'Liveness.',
        tags: ['operations'],
        security: [],
        responses: { 200: { description: 'alive' } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'Readiness.',
        tags: ['operations'],
        security: [],
        responses: { 200: { description: 'ready' }, 503: errorResponse('STORAGE_UNAVAILABLE') },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics (any valid token).',
        tags: ['operations'],
        security: [{ bearerAuth: [] }],
        responses: {
          200: { description: 'text/plain; version=0.0.4' },
          401: errorResponse('UNAUTHENTICATED | TOKEN_EXPIRED'),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document.',
        tags: ['operations'],
        security: [],
        responses: { 200: { description: 'OpenAPI 3.1' } },
      },
    },
    '/docs': {
      get: {
        operationId: 'docs',
        summary: 'Interactive API reference.',
        tags: ['operations'],
        security: [],
        responses: { 200: { description: 'HTML' } },
      },
    },
  };
  for (const p of PUBLIC_PATHS) if (!ops[p]) throw new Error(`public path ${p} is not documented`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Overseer API',
      version: '0.1.0',
      description: `The control plane for fleets of AI coding agents. Every route calls one command of the runtime's command table. Bodies are JSON, at most ${BODY_LIMIT / 1024} KiB. Errors are always the envelope { error: { code, message, details } }.`,
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    tags: [...new Set(routes.map((r) => r.tag)), 'operations'].map((name) => ({ name })),
    paths: { ...paths, ...ops },
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { ErrorEnvelope },
    },
  };
}

/** A body schema without the fields the path already gives. */
function stripPathFields(schema: Json, hasPathId: boolean): Json {
  if (!hasPathId) return schema;
  const props = { ...((schema['properties'] ?? {}) as Record<string, Json>) };
  for (const id of ['jobId', 'workerId', 'workstreamId', 'sessionId']) delete props[id];
  const required = ((schema['required'] ?? []) as string[]).filter((r) => r in props);
  return { ...schema, properties: props, required };
}
