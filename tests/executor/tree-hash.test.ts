import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { changedFiles, treeHash } from '../../src/executor/index.ts';
import { isOverseerError } from '../../src/core/errors.ts';
import { tempRepo, type TempRepo } from './git-repo.ts';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));
const repo = (files: Record<string, string>): TempRepo => {
  const r = tempRepo(files);
  cleanup.push(() => r.remove());
  return r;
};

describe('treeHash: the content hash of a working tree', () => {
  it('is the git tree id of the committed content, stable across runs and equal for equal content', async () => {
    const files = { 'src/a.ts': 'export const a = 1;\n', 'README.md': '# r\n' };
    const a = repo(files);
    const b = repo(files);
    const first = await treeHash(a.dir);
    expect(first).toMatch(/^[0-9a-f]{40}$/);
    expect(first).toBe(a.git('rev-parse', 'HEAD^{tree}').trim());
    expect(await treeHash(a.dir)).toBe(first);
    expect(await treeHash(b.dir)).toBe(first);
  });

  it('changes with a modified file and with an untracked file, and comes back when they are undone', async () => {
    const r = repo({ 'a.txt': 'one\n' });
    const clean = await treeHash(r.dir);
    r.write('a.txt', 'two\n');
    const modified = await treeHash(r.dir);
    expect(modified).not.toBe(clean);
    r.write('a.txt', 'one\n');
    r.write('notes/new.txt', 'untracked\n');
    const untracked = await treeHash(r.dir);
    expect(untracked).not.toBe(clean);
    rmSync(join(r.dir, 'notes'), { recursive: true });
    expect(await treeHash(r.dir)).toBe(clean);
  });

  it('ignores files the tree ignores (.gitignore and .git/info/exclude)', async () => {
    const r = repo({ '.gitignore': 'coverage/\n*.log\n', 'a.txt': 'a\n' });
    const clean = await treeHash(r.dir);
    r.write('coverage/lcov.info', 'x\n');
    r.write('debug.log', 'x\n');
    writeFileSync(join(r.dir, '.git', 'info', 'exclude'), 'scratch.txt\n');
    r.write('scratch.txt', 'x\n');
    expect(await treeHash(r.dir)).toBe(clean);
  });

  it("leaves the repository's index, refs and status alone", async () => {
    const r = repo({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    r.write('a.txt', 'changed\n');
    r.write('new.txt', 'untracked\n');
    r.git('add', 'b.txt');
    const index = readFileSync(join(r.dir, '.git', 'index'));
    const status = r.git('status', '--porcelain=v1');
    const refs = r.git('for-each-ref');
    await treeHash(r.dir);
    expect(readFileSync(join(r.dir, '.git', 'index'))).toEqual(index);
    expect(r.git('status', '--porcelain=v1')).toBe(status);
    expect(r.git('for-each-ref')).toBe(refs);
    expect(status).toContain('?? new.txt');
  });

  it("runs none of the tree owner's git configuration (fsmonitor, filter drivers)", async () => {
    const r = repo({ 'a.txt': 'a\n' });
    const marker = join(r.dir, '..', `${r.dir.split('/').pop()}-ran`);
    cleanup.push(() => rmSync(marker, { force: true }));
    r.git('config', 'core.fsmonitor', `touch ${marker}; false`);
    r.git('config', 'filter.evil.clean', `touch ${marker}; cat`);
    r.write('.gitattributes', '* filter=evil\n');
    await treeHash(r.dir);
    expect(() => readFileSync(marker)).toThrow();
  });

  it('refuses a directory outside any git working tree, unless given an object directory', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'overseer-plain-'));
    cleanup.push(() => rmSync(plain, { recursive: true, force: true }));
    writeFileSync(join(plain, 'a.txt'), 'a\n');
    const refused = await treeHash(plain).catch((e: unknown) => e);
    expect(isOverseerError(refused, 'VALIDATION_FAILED')).toBe(true);
    const objects = mkdtempSync(join(tmpdir(), 'overseer-objects-'));
    cleanup.push(() => rmSync(objects, { recursive: true, force: true }));
    const twin = repo({ 'a.txt': 'a\n' });
    expect(await treeHash(plain, { objectsDir: objects })).toBe(await treeHash(twin.dir));
  });
});

describe('changedFiles: what a phase changed', () => {
  it('lists added, modified and deleted files between two tree hashes, sorted', async () => {
    const r = repo({ 'src/a.ts': 'a\n', 'src/b.ts': 'b\n', 'tests/a.test.ts': 'old\n' });
    const from = await treeHash(r.dir);
    r.write('tests/a.test.ts', 'new\n');
    r.write('tests/c.test.ts', 'added\n');
    rmSync(join(r.dir, 'src/b.ts'));
    const to = await treeHash(r.dir);
    expect(await changedFiles(r.dir, from, to)).toEqual(['src/b.ts', 'tests/a.test.ts', 'tests/c.test.ts']);
    expect(await changedFiles(r.dir, to, to)).toEqual([]);
  });

  it('refuses anything but a tree hash (it could be read as an option)', async () => {
    const r = repo({ 'a.txt': 'a\n' });
    const tree = await treeHash(r.dir);
    const refused = await changedFiles(r.dir, '--output=/tmp/x', tree).catch((e: unknown) => e);
    expect(isOverseerError(refused, 'VALIDATION_FAILED')).toBe(true);
  });
});
