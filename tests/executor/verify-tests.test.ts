import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Workflow } from '../../src/contracts/workflow.ts';
import { isOverseerError } from '../../src/core/errors.ts';
import { evaluateGate, type WorkflowEvidence } from '../../src/domain/workflow/evaluate-gate.ts';
import { validateWorkflow } from '../../src/domain/workflow/validate-workflow.ts';
import { changedFiles, treeHash, verifyTests, type TestEvidence } from '../../src/executor/index.ts';
import { simulatedClock } from '../../src/testing.ts';
import { ROOT } from '../../scripts/gen.ts';
import { tempRepo } from './git-repo.ts';

const workflow: Workflow = validateWorkflow(
  readFileSync(join(ROOT, 'workflows', 'default.yaml'), 'utf8'),
).workflow!;
const root = mkdtempSync(join(tmpdir(), 'overseer-roots-'));
const dataDir = mkdtempSync(join(tmpdir(), 'overseer-data-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

const tap = (...files: string[]) => [process.execPath, '--test', '--test-reporter=tap', ...files] as const;
const verify = (cwd: string, command: readonly [string, ...string[]], more: object = {}) =>
  verifyTests({
    cwd,
    command,
    format: 'tap',
    workdirRoots: [root],
    dataDir,
    timeoutMs: 20_000,
    outputCapBytes: 256 * 1024,
    ...more,
  });

/** What a gate of the default workflow concludes on the node's own run. */
const gate = (
  name: 'tests_are_failing' | 'all_tests_pass',
  evidence: TestEvidence,
  facts: WorkflowEvidence = {},
) =>
  evaluateGate(name, {
    workflow,
    phase: workflow.phases.find((p) => p.id === (name === 'tests_are_failing' ? 'TDD' : 'IMPL'))!,
    evidence: 'verified',
    round: 0,
    artifacts: {},
    facts: { testRun: evidence, ...facts },
  });

const math = 'export const add = (a, b) => a + b;\n';
const mathTest = [
  "import { test } from 'node:test';",
  "import assert from 'node:assert/strict';",
  "import * as math from '../src/math.mjs';",
  "test('add', () => assert.equal(math.add(1, 2), 3));",
  "test('subtract', () => assert.equal(math.subtract(3, 1), 2));",
  '',
].join('\n');

describe('verifyTests: verified evidence from real runs', () => {
  it('TDD then IMPL: a failing run on the changed test file, then a passing run on the tree being moved', async () => {
    const repo = tempRepo({ 'src/math.mjs': math }, root);
    const base = await treeHash(repo.dir);
    repo.write('tests/math.test.mjs', mathTest);

    const clock = simulatedClock(Date.UTC(2026, 2, 1));
    const failing = await verify(repo.dir, tap('tests/math.test.mjs'), { clock });
    expect(failing.treeHash).toBe(await treeHash(repo.dir));
    expect(failing.exitCode).toBe(1);
    expect(failing.report).toMatchObject({
      ok: true,
      result: { format: 'tap', counts: { total: 2, passed: 1, failed: 1 } },
    });
    expect(failing.executor).toEqual({ kind: 'node', host: hostname(), pid: process.pid });
    expect(failing.startedAt).toBe('2026-03-01T00:00:00.000Z');
    expect(failing.outputDigest).toBe(`sha256:${createHash('sha256').update(failing.output).digest('hex')}`);
    expect(failing.output).toContain('not ok 2 - subtract');
    const changed = await changedFiles(repo.dir, base, failing.treeHash);
    expect(changed).toEqual(['tests/math.test.mjs']);
    expect(gate('tests_are_failing', failing, { changedFiles: changed })).toMatchObject({ outcome: 'pass' });

    repo.write('src/math.mjs', `${math}export const subtract = (a, b) => a - b;\n`);
    const passing = await verify(repo.dir, tap('tests/math.test.mjs'));
    expect(passing).toMatchObject({
      exitCode: 0,
      report: { ok: true, result: { counts: { passed: 2, failed: 0 } } },
    });
    expect(passing.treeHash).not.toBe(failing.treeHash);
    const moving = await treeHash(repo.dir);
    expect(gate('all_tests_pass', passing, { treeHash: moving })).toMatchObject({ outcome: 'pass' });
    // The passing run proves nothing about another tree, nor does the failing run about this one.
    expect(gate('all_tests_pass', passing, { treeHash: failing.treeHash })).toMatchObject({
      outcome: 'fail',
    });
    expect(gate('all_tests_pass', failing, { treeHash: failing.treeHash })).toMatchObject({
      outcome: 'fail',
    });
  });

  it('a test file that does not load, a missing runner (127) and a run without tests are gate errors', async () => {
    const repo = tempRepo(
      {
        'tests/broken.test.mjs': "import { nope } from './missing.mjs';\nnope();\n",
        'tests/empty.test.mjs': '// no tests yet\n',
      },
      root,
    );
    const changedFiles = ['tests/broken.test.mjs', 'tests/empty.test.mjs'];
    const broken = await verify(repo.dir, tap('tests/broken.test.mjs'));
    expect(broken.report).toMatchObject({ ok: false, error: 'load_error' });
    expect(gate('tests_are_failing', broken, { changedFiles })).toMatchObject({
      outcome: 'error',
      details: { error: 'load_error' },
    });

    const missing = await verify(repo.dir, ['overseer-no-such-test-runner', '--run']);
    expect(missing).toMatchObject({ exitCode: 127, report: { ok: false, error: 'not_runnable' } });
    expect(gate('tests_are_failing', missing, { changedFiles }).outcome).toBe('error');

    const empty = await verify(repo.dir, tap('tests/empty.test.mjs'));
    expect(empty.report).toMatchObject({ ok: false, error: 'no_tests' });
    expect(gate('all_tests_pass', empty, { treeHash: empty.treeHash }).outcome).toBe('error');
  });

  it('a tree modified during the run voids the evidence, whatever the tests said', async () => {
    const repo = tempRepo(
      {
        'tests/sneaky.test.mjs': [
          "import { test } from 'node:test';",
          "import { writeFileSync } from 'node:fs';",
          "test('passes and edits the tree', () => writeFileSync('src-edited-during-run.mjs', 'x'));",
          '',
        ].join('\n'),
      },
      root,
    );
    const before = await treeHash(repo.dir);
    const run = await verify(repo.dir, tap('tests/sneaky.test.mjs'));
    expect(run.exitCode).toBe(0);
    expect(run.treeHash).toBe(before);
    expect(run.report).toMatchObject({
      ok: false,
      error: 'tree_changed',
      details: { treeHashBefore: before, treeHashAfter: await treeHash(repo.dir) },
    });
    expect(gate('all_tests_pass', run, { treeHash: before })).toMatchObject({ outcome: 'error' });
  });

  it('a timeout or an output over the cap is no evidence either; a directory outside the roots is refused', async () => {
    const repo = tempRepo(
      {
        'tests/ok.test.mjs': "import { test } from 'node:test';\ntest('ok', () => {});\n",
        'tests/hangs.test.mjs':
          "import { test } from 'node:test';\ntest('hangs', () => new Promise(() => setInterval(() => {}, 1000)));\n",
      },
      root,
    );
    const cut = await verify(repo.dir, tap('tests/ok.test.mjs'), { outputCapBytes: 64 });
    expect(cut).toMatchObject({ exitCode: 0, truncated: true, report: { ok: false, error: 'truncated' } });
    const hung = await verify(repo.dir, tap('tests/hangs.test.mjs'), { timeoutMs: 1_000, killGraceMs: 200 });
    expect(hung).toMatchObject({ timedOut: true, report: { ok: false, error: 'timed_out' } });
    expect(gate('all_tests_pass', hung, { treeHash: hung.treeHash }).outcome).toBe('error');

    const outside = tempRepo({ 'a.txt': 'a\n' });
    try {
      const refused = await verify(outside.dir, tap()).catch((e: unknown) => e);
      expect(isOverseerError(refused, 'VALIDATION_FAILED')).toBe(true);
    } finally {
      outside.remove();
    }
  });
});
