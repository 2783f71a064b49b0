import { describe, expect, it } from 'vitest';
import { matchAnyGlob } from '../../src/domain/tool-policy/glob.ts';

describe('the one glob matcher, on the test-file globs of tests_are_failing', () => {
  it.each([
    ['tests/math.test.mjs', '**/*.test.*', true],
    ['math.test.ts', '**/*.test.*', true],
    ['src/deep/a.spec.tsx', '**/*.spec.*', true],
    ['src/math.ts', '**/*.test.*', false],
    ['tests/helpers/x.ts', '**/tests/**', true],
    ['package.json', '**/package.json', true],
    ['web/package.json', '**/package.json', true],
    ['web/package.json.bak', '**/package.json', false],
    ['src/a.ts', 'src/*', true],
    ['src/x/a.ts', 'src/*', false],
    ['tests/a.test.js', 'tests/*.test.?s', true],
    ['tests/a+b.test.js', 'tests/a+b.test.js', true],
    ['tests/aab.test.js', 'tests/a+b.test.js', false],
  ])('%s against %s → %s', (path, glob, expected) => {
    expect(matchAnyGlob([glob], path)).toBe(expected);
  });

  it('matches when any glob does, and never with none', () => {
    expect(matchAnyGlob(['**/*.test.*', '**/*.spec.*'], 'a/b.spec.js')).toBe(true);
    expect(matchAnyGlob([], 'a/b.spec.js')).toBe(false);
  });
});
