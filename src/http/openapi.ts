import type { z } from 'zod';
import { ErrorCodes } from '../core/errors.ts';
import { IdempotencyKeySchema, WorkspaceIdSchema } from '../contracts/common.ts';
import { SessionSchema } from '../contracts/session.ts';
import type { AnyCommandDef } from '../api/command.ts';
import { commands, tableOf } from '../api/commands.ts';
import { BODY_LIMIT } from './server.ts';
import { Components, isObject, sortKeys, type Json } from './openapi-components.ts';
import { codesOf, errorResponses, HTTP_ERROR_CODES } from './openapi-errors.ts';
import { operations } from './openapi-operations.ts';
import { PUBLIC_PATHS, ROUTE_TAGS, routesOf, type Route } from './routes.ts';

export { HTTP_ERROR_CODES };

/** The version of the API the document describes (the package's). */
export const API_VERSION = '0.1.0';

/** What each command answers (its `output`): the document's success schemas. */
export const ANSWERS: Readonly<Record<string, z.ZodType>> = Object.fromEntries(
  commands.map((c) => [c.name, c.output]),
);

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

function operation(
  route: Route,
  table: ReadonlyMap<string, AnyCommandDef>,
  routes: readonly Route[],
  components: Components,
): Json {
  const command = table.get(route.command);
  if (!command) throw new Error(`route ${route.method} ${route.path} names no command ${route.command}`);
  const answer = command.output;
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
    if (route.body) schema = components.add(route.body, 'input');
    else if (shape.bodyField) schema = props[shape.bodyField]!;
    else if (shape.pathField) {
      const { [shape.pathField]: _id, ...rest } = props;
      const { required: _required, ...object } = input;
      const restRequired = [...required].filter((r) => r in rest);
      schema = { ...object, properties: rest, ...(restRequired.length ? { required: restRequired } : {}) };
    } else schema = components.add(command.input, 'input');
    const bodyProps = components.deref(schema)['properties'] as Json | undefined;
    if (bodyProps && Object.keys(bodyProps).length > 0) {
      const bodyRequired = ((components.deref(schema)['required'] ?? []) as string[]).length > 0;
      const example = route.body ? route.example : command.example;
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

const TAGS: Record<string, string> = {
  ...ROUTE_TAGS,
  operations: 'Health, readiness, metrics and this document.',
};

/**
 * The OpenAPI 3.1 document of a command table (the runtime's by default): every route, its command's schemas,
 * scopes, answer and error codes.
 */
export function buildOpenApi(list: readonly AnyCommandDef[] = commands): Json {
  const table = tableOf(list);
  const routes = routesOf(list);
  const components = new Components();
  // Answers first, so the output shapes keep the plain ids.
  for (const command of list) components.add(command.output, 'output');
  components.add(SessionSchema, 'output');
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    (paths[toOpenApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation(
      route,
      table,
      routes,
      components,
    );
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
