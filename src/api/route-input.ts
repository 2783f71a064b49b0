// How an HTTP route builds its command's input from a request: data of each command's definition, so the route
// lives next to the command (the http layer turns it into a Fastify route and an OpenAPI operation).

import type { z } from 'zod';
import { OverseerError } from '../core/errors.ts';

/** What a route reads its command's input from. */
export interface RouteRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

/** One HTTP route of a command. */
export interface HttpRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Fastify path syntax (`/api/jobs/:id`). */
  path: string;
  /** Status of a successful answer (default 200). */
  status?: number;
  /** The OpenAPI tag (and Postman folder) it is listed under. */
  tag: string;
  /** Builds the command's input from the request. */
  input: (req: RouteRequest) => unknown;
  /**
   * The route's own request body, when it differs from the command's input (the seed's names): documented in its
   * place; `input` maps it onto the command's input, whose schema checks it.
   */
  body?: z.ZodType;
  /** An example of that body, for the documentation. */
  example?: unknown;
}

/** The body as the input: no body is `{}`; a body that is not a JSON object (an array, a string) is refused. */
export const body = (req: RouteRequest): Record<string, unknown> => {
  if (req.body === undefined || req.body === null) return {};
  if (typeof req.body === 'object' && !Array.isArray(req.body)) return req.body as Record<string, unknown>;
  throw new OverseerError('VALIDATION_FAILED', 'Invalid (root): the body must be a JSON object.', {
    issues: [{ path: '', message: 'the body must be a JSON object' }],
  });
};

/** Query parameters without the admin's workspace selector. */
export const query = (req: RouteRequest): Record<string, unknown> => {
  const { workspaceId: _ws, ...rest } = req.query;
  return rest;
};

/** The body with the path's `:id` as `key`. */
export const withId =
  (key: string) =>
  (req: RouteRequest): Record<string, unknown> => ({ ...body(req), [key]: req.params['id'] });

/** Only the path's `:id`, as `key`. */
export const idOnly =
  (key: string) =>
  (req: RouteRequest): Record<string, unknown> => ({ [key]: req.params['id'] });

/** No input. */
export const none = (): Record<string, unknown> => ({});

/** The seed's claim (`{ agentId, capabilities?, waitMs? }`) as `queue.claim`'s input: `agentId` is the worker id. */
export const agentClaim = (req: RouteRequest): Record<string, unknown> => {
  const { agentId, ...rest } = body(req);
  return { ...rest, workerId: agentId };
};
