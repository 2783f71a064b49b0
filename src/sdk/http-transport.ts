import { OverseerError, type ErrorCode, type ErrorEnvelope } from '../core/errors.ts';
import type { Transport, TransportCallOptions } from './transport.ts';

/** The REST route of each command the agent sends (the same paths as src/http/routes.ts). */
export const HTTP_ROUTES: Readonly<Record<string, { method: 'GET' | 'POST' | 'DELETE'; path: string }>> = {
  'workers.register': { method: 'POST', path: '/api/v1/workers' },
  'workers.heartbeat': { method: 'POST', path: '/api/v1/workers/:workerId/heartbeat' },
  'workers.deregister': { method: 'DELETE', path: '/api/v1/workers/:workerId' },
  'queue.claim': { method: 'POST', path: '/api/v1/queue/claim' },
  'queue.complete': { method: 'POST', path: '/api/v1/queue/complete' },
  'queue.fail': { method: 'POST', path: '/api/v1/queue/fail' },
  'jobs.submit': { method: 'POST', path: '/api/v1/tasks' },
  'events.list': { method: 'GET', path: '/api/v1/events' },
  'state.snapshot': { method: 'GET', path: '/api/v1/state/snapshot' },
  'workflow.transition': { method: 'POST', path: '/api/v1/tasks/transition' },
  'tokens.refresh': { method: 'POST', path: '/api/v1/tokens/refresh' },
  'workflow.contract': { method: 'GET', path: '/api/v1/jobs/:jobId/contract' },
};

/** The code of an error answer without an envelope, from its HTTP status. */
const STATUS_CODES: Record<number, ErrorCode> = {
  401: 'UNAUTHENTICATED',
  403: 'INSUFFICIENT_SCOPE',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  502: 'STORAGE_UNAVAILABLE',
  503: 'STORAGE_UNAVAILABLE',
  504: 'STORAGE_UNAVAILABLE',
};

function isEnvelope(value: unknown): value is ErrorEnvelope {
  const error = (value as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

/**
 * The agent's transport over the REST API, with the global `fetch`. Path parameters come out of the input;
 * GET inputs go in the query string, others in a JSON body. `?workspaceId=` names the workspace (an admin
 * token's choice; a workspace token's own workspace wins, as over HTTP).
 */
export class HttpTransport implements Transport {
  readonly kind = 'http';
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly workspaceId: string,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async call(
    command: string,
    input: Record<string, unknown>,
    options: TransportCallOptions,
  ): Promise<unknown> {
    const route = HTTP_ROUTES[command];
    if (!route)
      throw new OverseerError('NOT_FOUND', `The agent has no HTTP route for ${command}.`, { command });
    const rest: Record<string, unknown> = { ...input };
    const path = route.path.replace(/:(\w+)/g, (_m, name: string) => {
      const value = rest[name];
      delete rest[name];
      if (typeof value !== 'string' || value === '')
        throw new OverseerError('VALIDATION_FAILED', `${command} needs ${name}.`, { command, field: name });
      return encodeURIComponent(value);
    });
    const url = new URL(this.base + path);
    url.searchParams.set('workspaceId', this.workspaceId);
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    let body: string | undefined;
    if (route.method === 'GET') {
      for (const [name, value] of Object.entries(rest))
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
          url.searchParams.set(name, String(value));
    } else if (route.method === 'POST') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(rest);
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: route.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (cause) {
      const timedOut = (cause as { name?: string } | null)?.name === 'TimeoutError';
      throw new OverseerError(
        'STORAGE_UNAVAILABLE',
        timedOut
          ? `No answer from ${this.base} in time; retry with the same idempotency key.`
          : `Cannot reach ${this.base}; retry with the same idempotency key.`,
        { reason: timedOut ? 'timeout' : 'unreachable', command, timeoutMs: options.timeoutMs },
        { cause },
      );
    }
    return this.answer(command, res);
  }

  subscribe(): null {
    return null;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async answer(command: string, res: Response): Promise<unknown> {
    const text = await res.text().catch(() => '');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok) return body;
    if (isEnvelope(body)) {
      const err = OverseerError.fromEnvelope(body);
      const retryAfter = Number(res.headers.get('retry-after'));
      if (err.code === 'RATE_LIMITED' && err.details['retryAfterSeconds'] === undefined && retryAfter > 0)
        throw new OverseerError(err.code, err.message, { ...err.details, retryAfterSeconds: retryAfter });
      throw err;
    }
    throw new OverseerError(
      STATUS_CODES[res.status] ?? 'INTERNAL',
      `${command} answered HTTP ${res.status} without an error envelope.`,
      { command, status: res.status },
    );
  }
}
