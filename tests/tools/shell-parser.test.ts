import { linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShNode } from '../../src/domain/tool-policy/shell-ast.ts';
import { pathFacts } from '../../src/tools/facts.ts';
import { loadShellParser, MAX_COMMAND_LENGTH, type ShellParser } from '../../src/tools/shell-parser.ts';

let parser: ShellParser;
beforeAll(async () => {
  parser = await loadShellParser();
});

/** The static words of every simple command, in tree order (substitutions first, as they run). */
function commands(nodes: ShNode[]): (string | null)[][] {
  const out: (string | null)[][] = [];
  const visit = (n: ShNode) => {
    const words = n.type === 'command' ? n.words : n.words;
    for (const r of n.redirects)
      for (const s of [...(r.target?.subs ?? []), ...(r.body?.subs ?? [])]) visit(s);
    for (const w of words) for (const s of w.subs) visit(s);
    if (n.type === 'command') out.push(n.words.map((w) => w.value));
    else n.body.forEach(visit);
  };
  nodes.forEach(visit);
  return out;
}

describe('shell parser (tree-sitter-bash → plain tree)', () => {
  const read: [string, (string | null)[][]][] = [
    ['npm test', [['npm', 'test']]],
    ['echo \'a b\' "c\\"d" e\\ f', [['echo', 'a b', 'c"d', 'e f']]],
    ['a | b && c; (d) & { e; }', [['a'], ['b'], ['c'], ['d'], ['e']]],
    ['echo $(rm x) `ls`', [['rm', 'x'], ['ls'], ['echo', null, null]]],
    [
      'cat <(rm y)',
      [
        ['rm', 'y'],
        ['cat', null],
      ],
    ],
    ['cat <<EOF\n$(rm z)\nEOF', [['rm', 'z'], ['cat']]],
    ["cat <<'EOF'\n$(rm z)\nEOF", [['cat']]],
    ['if a; then b; elif c; then d; else e; fi', [['a'], ['b'], ['c'], ['d'], ['e']]],
    ['for f in $(ls); do rm "$f"; done', [['ls'], ['rm', null]]],
    ['echo ~/x {a,b} *.ts', [['echo', null, null, '*.ts']]],
  ];
  for (const [text, expected] of read)
    it(`reads ${JSON.stringify(text)}`, () => {
      const p = parser.parse(text);
      expect(p.ok).toBe(true);
      if (p.ok) expect(commands(p.script)).toEqual(expected);
    });

  it('keeps the redirections of a group and their operators', () => {
    const p = parser.parse('{ a; b; } >> out 2>&1 < in');
    expect(p.ok && p.script[0]!.redirects.map((r) => [r.op, r.fd, r.target?.value])).toEqual([
      ['>>', null, 'out'],
      ['>&', '2', '1'],
      ['<', null, 'in'],
    ]);
  });

  const unreadable = [
    'echo $((1+',
    'ls ((',
    'if then fi',
    'f() { ls; }',
    'for ((i=0;i<3;i++)); do ls; done',
    'cat <<-EOF\n\t$(rm a)\n\tEOF',
    'a\0b',
    'x'.repeat(MAX_COMMAND_LENGTH + 1),
  ];
  for (const text of unreadable)
    it(`refuses to read ${JSON.stringify(text.slice(0, 40))}`, () =>
      expect(parser.parse(text).ok).toBe(false));
});

describe('path facts', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ovs-facts-'));
  const root = join(realpathSync(tmp), 'root');
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  mkdirSync(join(root, 'src'), { recursive: true });
  writeFileSync(join(root, 'src/a.ts'), 'x');
  linkSync(join(root, 'src/a.ts'), join(root, 'src/b.ts'));
  symlinkSync(join(tmp, 'nowhere'), join(root, 'dangling'));
  symlinkSync('../..', join(root, 'src/up'));

  it('a regular file: its type and link count', () => {
    expect(pathFacts(root, 'src/a.ts')).toEqual({ realPath: join(root, 'src/a.ts'), type: 'file', links: 2 });
  });
  it('a missing path below existing ones: the deepest existing ancestor, resolved', () => {
    expect(pathFacts(root, 'src/up/x/y.ts')).toEqual({
      realPath: join(realpathSync(tmp), 'x/y.ts'),
      type: 'missing',
      links: 0,
    });
  });
  it('a dangling final symlink is reported as a symlink, not followed', () => {
    expect(pathFacts(root, 'dangling')).toMatchObject({ realPath: join(root, 'dangling'), type: 'symlink' });
  });
});
