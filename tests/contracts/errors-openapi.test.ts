/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- the document is walked as untyped JSON */
// The error table (src/core/errors.ts), docs/errors.md and the OpenAPI document stay in step (DESIGN §7).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, type ErrorCode } from '../../src/core/errors.ts';
import { buildOpenApi, HTTP_ERROR_CODES } from '../../src/http/openapi.ts';
import { routes } from '../../src/http/routes.ts';
import { ROOT } from '../../scripts/gen.ts';

type Json = Record<string, any>;

const doc: Json = buildOpenApi();
const NOT_OVER_HTTP: ErrorCode[] = ['DATA_DIR_LOCKED'];

/** docs/errors.md's table: code → [code, status, retryable, message]. */
const rows = new Map(
  readFileSync(join(ROOT, 'docs/errors.md'), 'utf8')
    .split('\n')
    .filter((line) => /^\|\s*`[A-Z_]+`/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
    .map((cells) => [cells[0]!.replaceAll('`', ''), cells] as const),
);

/** Every error response of every operation, resolved, with its status. */
const errorResponses = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, ops]) =>
  Object.entries(ops).flatMap(([method, op]) =>
    Object.entries((op as Json).responses as Json)
      .filter(([status]) => Number(status) >= 400)
      .map(([status, res]) => {
        const ref = (res as Json).$ref as string | undefined;
        const resolved = ref ? doc.components.responses[ref.split('/').pop()!] : res;
        return {
          where: `${method.toUpperCase()} ${path} ${status}`,
          status: Number(status),
          res: resolved as Json,
        };
      }),
  ),
);

describe('error codes: table ↔ docs/errors.md ↔ OpenAPI', () => {
  it('the OpenAPI ErrorCode enum is the table minus the codes that never travel over HTTP', () => {
    const expected = Object.keys(ErrorCodes).filter((c) => !NOT_OVER_HTTP.includes(c as ErrorCode));
    expect(doc.components.schemas.ErrorCode.enum).toEqual(expected);
    expect(HTTP_ERROR_CODES).toEqual(expected);
    expect(doc.components.schemas.ErrorEnvelope.properties.error.properties.code).toEqual({
      $ref: '#/components/schemas/ErrorCode',
    });
  });

  it('docs/errors.md has one row per code with its status, retryable flag and message', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ErrorCodes).sort());
    for (const [code, { status, retryable, message }] of Object.entries(ErrorCodes)) {
      const cells = rows.get(code)!;
      expect(cells[1], code).toBe(String(status));
      expect(cells[2], code).toBe(retryable ? 'yes' : 'no');
      expect(cells[3], code).toBe(message);
    }
  });

  it('docs/errors.md says which codes never travel over HTTP', () => {
    const text = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    for (const code of NOT_OVER_HTTP) expect(text).toMatch(new RegExp(`\`${code}\` never travels over HTTP`));
  });

  it('every HTTP code is answered by some route, under its own status, with an example', () => {
    const answered = new Set<string>();
    for (const { where, status, res } of errorResponses) {
      const codes = res['x-error-codes'] as ErrorCode[];
      expect(codes.length, where).toBeGreaterThan(0);
      for (const code of codes) {
        expect(ErrorCodes[code]?.status, `${where}: ${code}`).toBe(status);
        expect(res.description, where).toContain(`\`${code}\``);
        expect(res.content['application/json'].examples[code], where).toEqual({
          $ref: `#/components/examples/${code}`,
        });
        answered.add(code);
      }
      expect(res.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorEnvelope' });
    }
    expect([...answered].sort()).toEqual([...HTTP_ERROR_CODES].sort());
  });

  it('every example is the envelope of its code with the table message', () => {
    expect(Object.keys(doc.components.examples).sort()).toEqual([...HTTP_ERROR_CODES].sort());
    for (const code of HTTP_ERROR_CODES)
      expect(doc.components.examples[code].value).toEqual({
        error: { code, message: ErrorCodes[code].message, details: {} },
      });
  });

  it('every route answers the codes any request can meet', () => {
    const always: ErrorCode[] = [
      'VALIDATION_FAILED',
      'UNAUTHENTICATED',
      'TOKEN_EXPIRED',
      'INSUFFICIENT_SCOPE',
      'NOT_FOUND',
      'RATE_LIMITED',
      'INTERNAL',
    ];
    for (const route of routes) {
      const op = doc.paths[route.path.replace(/:([^/]+)/g, '{$1}')][route.method.toLowerCase()];
      const codes = Object.values(op.responses as Json)
        .map((r: Json) => (r.$ref ? doc.components.responses[r.$ref.split('/').pop()] : r))
        .flatMap((r: Json) => (r['x-error-codes'] ?? []) as string[]);
      for (const code of always) expect(codes, `${route.method} ${route.path}`).toContain(code);
      if (route.method !== 'GET') expect(codes).toContain('PAYLOAD_TOO_LARGE');
    }
  });

  it('429 answers carry Retry-After, 405 answers Allow', () => {
    const limited = errorResponses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const { where, res } of limited) expect(res.headers?.['Retry-After'], where).toBeDefined();
    for (const { where, res } of errorResponses.filter((r) => r.status === 405))
      expect(res.headers?.['Allow'], where).toBeDefined();
  });
});
