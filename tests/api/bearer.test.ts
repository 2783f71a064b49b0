import { describe, expect, it } from 'vitest';
import { bearerToken } from '../../src/api/command-caller.ts';

describe('bearerToken', () => {
  it('reads the token as /^Bearer\\s+(\\S+)\\s*$/i does', () => {
    const cases = [
      'Bearer abc',
      'bearer abc',
      'BEARER  abc  ',
      'Bearer\tabc',
      'Bearer a b',
      'Bearer ',
      'Bearer',
      'Bearerabc',
      'Basic abc',
      ' Bearer abc',
      'Bearer abc\t',
      '',
    ];
    for (const header of cases)
      expect(bearerToken(header), JSON.stringify(header)).toBe(/^Bearer\s+(\S+)\s*$/i.exec(header)?.[1]);
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
