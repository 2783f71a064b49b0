import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, OverseerError } from '../src/index.ts';

describe('the error table', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');

  const rows = new Map(
    doc
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

  it('docs/errors.md lists every code with its status and retryable flag', () => {
    for (const [code, { status, retryable }] of Object.entries(ErrorCodes)) {
      const cells = rows.get(code);
      expect(cells, `docs/errors.md has no row for ${code}`).toBeDefined();
      expect(cells![1]).toBe(String(status));
      expect(cells![2]).toBe(retryable ? 'yes' : 'no');
    }
  });

  it('docs/errors.md lists no code the table lacks', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ErrorCodes).sort());
  });

  it('OverseerError carries code, status, retryable and details, and its envelope has no stack', () => {
    const err = new OverseerError('STORAGE_UNAVAILABLE', undefined, { a: 1 }, { cause: new Error('x') });
    expect(err).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      status: 503,
      retryable: true,
      details: { a: 1 },
    });
    expect(err.toEnvelope()).toEqual({
      error: {
        code: 'STORAGE_UNAVAILABLE',
        message: ErrorCodes.STORAGE_UNAVAILABLE.message,
        details: { a: 1 },
      },
    });
    expect(JSON.stringify(err.toEnvelope())).not.toContain('at ');
    expect(OverseerError.fromEnvelope(err.toEnvelope())).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      retryable: true,
    });
    expect(
      OverseerError.fromEnvelope({ error: { code: 'NOPE' as never, message: 'm', details: {} } }).code,
    ).toBe('INTERNAL');
  });
});
