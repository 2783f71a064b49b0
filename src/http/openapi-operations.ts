import type { Json } from './openapi-components.ts';
import { errorResponses } from './openapi-errors.ts';

const json = (schema: Json) => ({ 'application/json': { schema } });
/** `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and `/docs`. */
export const operations = (responses: Record<string, Json>): Record<string, Json> => ({
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
