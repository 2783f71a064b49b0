import { ErrorCodes, type ErrorCode } from '../core/errors.ts';
import { COMMAND_ERROR_CODES, type AnyCommandDef } from '../api/command.ts';
import type { Json } from './openapi-components.ts';
import type { Route } from './routes.ts';

/** Codes that follow from the route rather than from the command: a method with a body, a mutation. */
const ROUTE_SCOPE: Partial<Record<ErrorCode, (route: Route, command: AnyCommandDef) => boolean>> = {
  PAYLOAD_TOO_LARGE: (r) => r.method !== 'GET',
  UNSUPPORTED_MEDIA_TYPE: (r) => r.method !== 'GET',
  IDEMPOTENCY_KEY_REUSED: (_r, c) => c.mutates,
};

const commandScoped: ReadonlySet<ErrorCode> = new Set(COMMAND_ERROR_CODES);

export const HTTP_ERROR_CODES = (Object.keys(ErrorCodes) as ErrorCode[]).filter(
  (c) => c !== 'DATA_DIR_LOCKED',
);

/**
 * The codes a route may answer: the command's own (`errors`), those its method and kind imply, and every code
 * common to all routes.
 */
export const codesOf = (route: Route, command: AnyCommandDef): ErrorCode[] =>
  HTTP_ERROR_CODES.filter((code) =>
    commandScoped.has(code)
      ? (command.errors as readonly ErrorCode[]).includes(code)
      : (ROUTE_SCOPE[code]?.(route, command) ?? true),
  );

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
export function errorResponses(codes: readonly ErrorCode[], responses: Record<string, Json>): Json {
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
