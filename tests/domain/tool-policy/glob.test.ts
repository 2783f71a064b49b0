import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchGlob } from '../../../src/domain/tool-policy/glob.ts';

const segment = fc.stringMatching(/^[a-zA-Z0-9._%\\{}[\]-]{1,8}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));

describe('matchGlob', () => {
  const cases: [string, string, boolean][] = [
    ['tests/**', 'tests', true],
    ['tests/**', 'tests/a/b.ts', true],
    ['tests/**', 'tests-evil/a.ts', false],
    ['tests/**', 'testsx', false],
    ['**', '', true],
    ['**/*.test.*', 'a.test.ts', true],
    ['**/*.test.*', 'src/deep/a.test.ts', true],
    ['**/*.test.*', 'src/a.ts', false],
    ['*.md', 'docs/a.md', false],
    ['*.md', '.hidden.md', true],
    ['src/*/x.ts', 'src/a/x.ts', true],
    ['src/*/x.ts', 'src/a/b/x.ts', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['{a,b}', 'a', false],
    ['**/package.json', 'package.json', true],
    ['**/package.json', 'x/y/package.json', true],
    ['**/package.json', 'x/package.jsonx', false],
    ['.git/**', '.GIT/config', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/**/b', 'a/b', true],
    ['*a*b', 'xxaxxb', true],
    ['*a*b', 'xxaxxbc', false],
  ];
  for (const [glob, p, expected] of cases)
    it(`${glob} ${expected ? 'matches' : 'does not match'} "${p}"`, () =>
      expect(matchGlob(glob, p)).toBe(expected));

  it('a glob without wildcards matches exactly itself', () => {
    fc.assert(
      fc.property(path, path, (a, b) => {
        const literal = a.replaceAll('*', '').replaceAll('?', '');
        expect(matchGlob(literal, b)).toBe(literal === b);
      }),
    );
  });

  it('DIR/** never matches a sibling that merely shares the prefix', () => {
    fc.assert(
      fc.property(path, segment, path, (dir, suffix, rest) => {
        const literal = dir.replaceAll('*', '').replaceAll('?', '');
        expect(matchGlob(`${literal}/**`, `${literal}${suffix}/${rest}`)).toBe(false);
        expect(matchGlob(`${literal}/**`, `${literal}/${rest}`)).toBe(true);
      }),
    );
  });
});
