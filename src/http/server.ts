import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { OverseerError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { bearerToken, type CommandCaller } from '../api/command-caller.ts';
import { encodeAnswer, pageBudget } from '../api/page.ts';
import { DOCS_ASSETS, DOCS_PAGE, docsAsset } from './docs-ui.ts';
import { rawErrorResponse, toOverseerError } from './errors.ts';
import { HttpMetrics, onlyWorkspace, type RuntimeSample } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import { PUBLIC_PATHS, routes as runtimeRoutes, type Route } from './routes.ts';

/** Bodies above this answer 413 (the same cap applies to NATS requests). */
export const BODY_LIMIT = 512 * 1024;
/** Headers above this answer 431: room for a 16 KiB bearer token plus ordinary headers. */
export const MAX_HEADER_SIZE = 20 * 1024;

export interface HttpServerOptions {
  /** Runs the commands: on a data node `localCaller`, on a gateway `remoteCaller`. */
  caller: CommandCaller;
  logger: Logger;
  /** Requests per second per token (0: off) and the burst allowed. */
  rateLimit: { perSecond: number; burst: number };
  /** Whether the runtime can take commands (`/readyz`). */
  ready: () => boolean;
  /** The OpenAPI document. */
  openapi: () => unknown;
  /** The largest answer in bytes: a longer list page ends early (the NATS budget, so both agree). */
  maxAnswerBytes?: number;
  /**
   * The metrics to serve at `/metrics`: a registry the node shares with its NATS endpoints, or one made here
   * from a sample of the runtime.
   */
  metrics: HttpMetrics | { sample: () => RuntimeSample };
  now?: () => number;
  /** The routes to serve (default: those of the runtime's command table). */
  routes?: readonly Route[];
}

/** Compiles a route path to a regex, to tell 405 (known path, other method) from 404. */
const pathPattern = (path: string): RegExp => new RegExp(`^${path.replace(/:[^/]+/g, '[^/]+')}$`);

/**
 * The Fastify adapter: every route calls one command of the command table, after authenticating the bearer token,
 * checking its scope and picking its workspace (an admin may name one with `?workspaceId=`). Every error leaves as
 * the envelope `{ error: { code, message, details } }`; no stack trace reaches a client.
 */
export function buildHttpServer(
  options: HttpServerOptions,
): FastifyInstance<Server, IncomingMessage, ServerResponse, Logger> {
  const now = options.now ?? Date.now;
  const routes = options.routes ?? runtimeRoutes;
  const maxAnswerBytes = options.maxAnswerBytes ?? pageBudget(undefined);
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'http' }),
    // Per-request lines are left out: latency goes to /metrics, errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (pino's child + redaction cost ~1 % of a durable submit): the error handler
    // names the request itself.
    childLoggerFactory: (logger) => logger,
    bodyLimit: BODY_LIMIT,
    http: { maxHeaderSize: MAX_HEADER_SIZE },
    return503OnClosing: true,
    // Ids are at most 128 characters; longer path segments are answered by frameworkErrors below.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: (err, _req, reply) => {
      void sendError(
        reply,
        new OverseerError('VALIDATION_FAILED', `The request URL is invalid: ${err.message}.`, {
          reason: err.code,
        }),
      );
    },
    clientErrorHandler(err: Error & { code?: string }, socket) {
      if (!socket.writable) return;
      if (err.code === 'HPE_HEADER_OVERFLOW') socket.end(rawErrorResponse(431, 'HEADERS_TOO_LARGE'));
      else socket.end(rawErrorResponse(400, 'VALIDATION_FAILED', 'The request could not be parsed as HTTP.'));
    },
  });
  app.removeContentTypeParser('text/plain');
  // An empty body sent as JSON is no body (`curl -H 'Content-Type: application/json' -X POST …/pause`), not an
  // error; anything else goes to Fastify's own parser (prototype poisoning refused).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, text, done) => {
    const body = typeof text === 'string' ? text : text.toString('utf8');
    if (body === '') done(null, undefined);
    else void parseJson(req, body, done);
  });
  const limiter = new RateLimiter(options.rateLimit.perSecond, options.rateLimit.burst);
  const metrics =
    options.metrics instanceof HttpMetrics ? options.metrics : new HttpMetrics(options.metrics.sample);
  const operational = [...PUBLIC_PATHS, '/metrics', '/docs/:asset'].map((path) => ({
    method: 'GET',
    pattern: pathPattern(path),
  }));
  const known = [...routes.map((r) => ({ method: r.method, pattern: pathPattern(r.path) })), ...operational];

  const sendError = (reply: FastifyReply, err: unknown) => {
    const e = toOverseerError(err);
    if (e.code === 'INTERNAL')
      reply.log.error(
        {
          err: e.cause ?? err,
          reqId: reply.request.id,
          method: reply.request.method,
          url: reply.request.url,
        },
        'internal error',
      );
    if (e.code === 'RATE_LIMITED' && typeof e.details['retryAfterSeconds'] === 'number')
      reply.header('retry-after', String(e.details['retryAfterSeconds']));
    return reply.code(e.status).type('application/json; charset=utf-8').send(e.toEnvelope());
  };

  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? req.url;
    const allowed = known.filter((k) => k.pattern.test(path)).map((k) => k.method);
    if (allowed.length > 0) {
      reply.header('allow', [...new Set(allowed)].join(', '));
      return sendError(
        reply,
        new OverseerError(
          'METHOD_NOT_ALLOWED',
          `${req.method} is not allowed on ${path}; use ${allowed.join(' or ')}.`,
          { allowed },
        ),
      );
    }
    return sendError(
      reply,
      new OverseerError('NOT_FOUND', `No route ${req.method} ${path}.`, { method: req.method, path }),
    );
  });
  // Closing waits for in-flight requests, but a keep-alive connection that was busy when it began stays open
  // once its answer is sent (until keepAliveTimeout): close each one as its last answer finishes.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // One labelled child per method, route and status, so a request does not hash its label object.
  const observers = new Map<string, { observe(value: number): void }>();
  app.addHook('onResponse', (req, reply, done) => {
    if (closing) app.server.closeIdleConnections();
    const route = req.routeOptions.url ?? 'unknown';
    const key = `${req.method} ${route} ${reply.statusCode}`;
    let observer = observers.get(key);
    if (!observer) {
      observer = metrics.requests.labels(req.method, route, String(reply.statusCode));
      observers.set(key, observer);
    }
    observer.observe(reply.elapsedTime / 1000);
    done();
  });

  /** Authenticates and rate-limits; answers the principal and its token. */
  const authenticate = async (req: FastifyRequest) => {
    const token = bearerToken(req.headers.authorization);
    const principal = await options.caller.authenticate(token);
    const taken = limiter.take(token!, now());
    if (!taken.ok)
      throw new OverseerError(
        'RATE_LIMITED',
        `Too many requests; retry after ${taken.retryAfterSeconds} s.`,
        { retryAfterSeconds: taken.retryAfterSeconds },
      );
    return { principal, token };
  };

  const handle = (route: Route) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { principal, token } = await authenticate(req);
    const query = (req.query ?? {}) as Record<string, unknown>;
    const requested = typeof query['workspaceId'] === 'string' ? query['workspaceId'] : undefined;
    if (route.query) refuseUnknownQuery(query, route.query);
    const input = route.input({ params: req.params as Record<string, string>, query, body: req.body });
    const key = req.headers['idempotency-key'];
    const answer = await options.caller.call(principal, route.command, input, {
      token,
      workspaceId: requested,
      idempotencyKey: typeof key === 'string' ? key : undefined,
    });
    return reply
      .code(route.status ?? 200)
      .type('application/json; charset=utf-8')
      .send(encodeAnswer(answer, maxAnswerBytes));
  };
  for (const route of routes) app.route({ method: route.method, url: route.path, handler: handle(route) });

  // Operations
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', (_req, reply) =>
    options.ready()
      ? { status: 'ready' }
      : sendError(reply, new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is not ready.')),
  );
  app.get('/metrics', async (req, reply) => {
    // Any valid token: `auth.whoami` is verified by the node that holds the state, also behind a gateway. Only
    // an admin token sees every workspace's series; others see their own workspace's.
    const { principal, token } = await authenticate(req);
    await options.caller.call(principal, 'auth.whoami', {}, { token });
    const text = await metrics.registry.metrics();
    return reply
      .type(metrics.registry.contentType)
      .send(principal.scopes.includes('admin') ? text : onlyWorkspace(text, principal.workspaceId));
  });
  app.get('/openapi.json', () => options.openapi());
  app.get('/docs', (_req, reply) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE));
  app.get('/docs/:asset', (req, reply) => {
    const asset = (req.params as { asset: string }).asset;
    const type = DOCS_ASSETS[asset];
    if (!type) return sendError(reply, new OverseerError('NOT_FOUND', `No asset ${asset}.`));
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(docsAsset(asset));
  });
  return app;
}

/** VALIDATION_FAILED naming every query parameter a route does not read (a mistyped filter must not be ignored). */
function refuseUnknownQuery(query: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(query).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  throw new OverseerError(
    'VALIDATION_FAILED',
    `Unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; this route takes ${known.join(', ')}.`,
    {
      issues: unknown.map((k) => ({
        path: k,
        message: `unknown query parameter; this route takes ${known.join(', ')}`,
      })),
    },
  );
}
