import { describe, expect, it } from 'vitest';
import { TestResultArtifactSchema } from '../../src/contracts/artifacts.ts';
import { detectFormat, parseTestReport } from '../../src/domain/workflow/parse-test-report.ts';
import { fixture, type Fixture } from './report-fixtures.ts';

const parsed = (name: Fixture) => {
  const r = parseTestReport(fixture(name));
  if (!r.ok) throw new Error(`${name}: ${r.error} ${r.message}`);
  expect(TestResultArtifactSchema.parse(r.result)).toEqual(r.result);
  return r.result;
};
const summary = (name: Fixture) =>
  parsed(name).cases.map((c) => [
    c.name,
    c.status,
    c.file?.replace(/^\/tmp\/wf-fx\/(proj|vt)\//, '') ?? null,
  ]);

describe('test reports of real runners', () => {
  it('detects the format of each fixture', () => {
    expect(detectFormat(fixture('node-fail.tap').output)).toBe('tap');
    expect(detectFormat(fixture('vitest-fail.tap').output)).toBe('tap');
    expect(detectFormat(fixture('vitest-fail.junit.xml').output)).toBe('junit');
    expect(detectFormat(fixture('node-fail.spec.txt').output)).toBe('node-spec');
    expect(detectFormat('Compiling...\nall good\n')).toBeNull();
  });

  it('node --test TAP: leaves are cases, the suite is not; failures carry their file', () => {
    const r = parsed('node-fail.tap');
    expect(r.format).toBe('tap');
    expect(r.exit_code).toBe(1);
    expect(r.counts).toEqual({ total: 5, passed: 1, failed: 2, skipped: 1, todo: 1 });
    expect(summary('node-fail.tap')).toEqual([
      ['add > adds two numbers', 'passed', null],
      ['add > adds negative numbers', 'failed', 'tests/math.test.mjs'],
      ['subtract is not written yet', 'failed', 'tests/math.test.mjs'],
      ['skipped case', 'skipped', null],
      ['todo case', 'todo', null],
    ]);
    expect(r.cases[2]!.message).toBe('subtract is not implemented');
  });

  it('node --test spec: the same cases, files from the "failing tests" section', () => {
    const r = parsed('node-fail.spec.txt');
    expect(r.format).toBe('node-spec');
    expect(r.counts).toEqual({ total: 5, passed: 1, failed: 2, skipped: 1, todo: 1 });
    expect(summary('node-fail.spec.txt')).toEqual([
      ['add > adds two numbers', 'passed', null],
      ['add > adds negative numbers', 'failed', 'tests/math.test.mjs'],
      ['subtract is not written yet', 'failed', 'tests/math.test.mjs'],
      ['skipped case', 'skipped', null],
      ['todo case', 'todo', null],
    ]);
  });

  it('vitest JUnit: one case per <testcase>, file from classname, todo counted as skipped', () => {
    const r = parsed('vitest-fail.junit.xml');
    expect(r.counts).toEqual({ total: 5, passed: 2, failed: 1, skipped: 2, todo: 0 });
    expect(summary('vitest-fail.junit.xml')).toEqual([
      ['add > adds two numbers', 'passed', 'tests/math.test.ts'],
      ['add > adds negative numbers', 'failed', 'tests/math.test.ts'],
      ['add > skipped case', 'skipped', 'tests/math.test.ts'],
      ['add > todo case', 'skipped', 'tests/math.test.ts'],
      ['passes', 'passed', 'tests/pass.test.ts'],
    ]);
    expect(r.cases[1]!.message).toBe('expected -2 to be -3 // Object.is equality');
  });

  it('vitest TAP (buffered { } subtests) and tap-flat', () => {
    expect(parsed('vitest-fail.tap').counts).toEqual({ total: 5, passed: 2, failed: 1, skipped: 1, todo: 1 });
    expect(summary('vitest-fail.tap')[1]).toEqual([
      'add > adds negative numbers',
      'failed',
      'tests/math.test.ts',
    ]);
    expect(summary('vitest-fail.tap-flat')).toEqual([
      ['tests/math.test.ts > add > adds two numbers', 'passed', 'tests/math.test.ts'],
      ['tests/math.test.ts > add > adds negative numbers', 'failed', 'tests/math.test.ts'],
      ['tests/math.test.ts > add > skipped case', 'skipped', 'tests/math.test.ts'],
      ['tests/math.test.ts > add > todo case', 'todo', 'tests/math.test.ts'],
    ]);
  });

  it.each(['node-pass.tap', 'node-pass.spec.txt', 'vitest-pass.junit.xml', 'vitest-pass.tap'] as const)(
    '%s: every case passed, exit 0',
    (name) => {
      const r = parsed(name);
      expect(r.exit_code).toBe(0);
      expect(r.counts.failed).toBe(0);
      expect(r.counts.passed).toBe(r.counts.total);
      expect(r.counts.total).toBeGreaterThan(0);
    },
  );

  it.each([
    'node-load-error.tap',
    'node-load-error.spec.txt',
    'vitest-load-error.junit.xml',
    'vitest-load-error.tap',
  ] as const)('%s: a file that did not load is a load error, not a failing test', (name) => {
    const r = parseTestReport(fixture(name));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBe('load_error');
    expect(r.message).toMatch(/broken\.test\.(mjs|ts)/);
  });

  it('a report with no test case is an error', () => {
    const r = parseTestReport(fixture('vitest-no-tests.junit.xml'));
    expect(r).toMatchObject({ ok: false, error: 'no_tests' });
    expect(parseTestReport({ output: 'TAP version 14\n1..0\n', exitCode: 0 })).toMatchObject({
      ok: false,
      error: 'no_tests',
    });
  });

  it('node --test reports a file without tests as a passing case named after it: no test, in every format', () => {
    const tap = [
      'TAP version 13',
      '# Subtest: /w/tests/empty.test.mjs',
      'ok 1 - /w/tests/empty.test.mjs',
      '  ---',
      '  duration_ms: 196.6',
      '  ...',
      '1..1',
      '# tests 1',
      '# pass 1',
      '',
    ].join('\n');
    const spec = '✔ /w/tests/empty.test.mjs (368.4ms)\nℹ tests 1\nℹ pass 1\nℹ fail 0\n';
    const junit =
      '<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n\t<testcase name="/w/tests/empty.test.mjs" time="0.17" classname="test"/>\n</testsuites>\n';
    for (const output of [tap, spec, junit])
      expect(parseTestReport({ output, exitCode: 0 })).toMatchObject({ ok: false, error: 'no_tests' });
    // Beside a file with tests, only the real test counts.
    const both = parseTestReport({
      output: spec.replace('ℹ tests 1', '✔ adds (0.7ms)\nℹ tests 2'),
      exitCode: 0,
    });
    expect(both).toMatchObject({ ok: true, result: { counts: { total: 1, passed: 1 } } });
  });

  it.each([126, 127])('exit %i (the runner could not start) is an error whatever the output', (exitCode) => {
    expect(parseTestReport({ output: fixture('node-pass.tap').output, exitCode })).toMatchObject({
      ok: false,
      error: 'not_runnable',
    });
  });

  it('output in no known format, or truncated spec output, is unparseable', () => {
    expect(parseTestReport({ output: 'sh: vitest: command not found\n', exitCode: 1 })).toMatchObject({
      ok: false,
      error: 'unparseable',
    });
    // The spec output cut before its summary, and one whose summary disagrees with its cases.
    const spec = fixture('node-fail.spec.txt').output;
    expect(
      parseTestReport({ output: spec.slice(0, spec.indexOf('ℹ tests')), exitCode: 1, format: 'node-spec' }),
    ).toMatchObject({ ok: false, error: 'unparseable' });
    expect(parseTestReport({ output: spec.replace('ℹ tests 5', 'ℹ tests 6'), exitCode: 1 })).toMatchObject({
      ok: false,
      error: 'unparseable',
    });
    expect(parseTestReport({ output: '<html>nope</html>', exitCode: 0, format: 'junit' })).toMatchObject({
      ok: false,
      error: 'unparseable',
    });
  });

  it('TAP "Bail out!" is a load error', () => {
    const r = parseTestReport({
      output: 'TAP version 13\n1..3\nok 1 - first\nBail out! database down\n',
      exitCode: 1,
    });
    expect(r).toMatchObject({ ok: false, error: 'load_error' });
  });

  it('JUnit: entities, CDATA, <error> cases and a suite-level error', () => {
    const xml = `<?xml version="1.0"?>
<testsuites>
  <testsuite name="pytest" tests="3">
    <testcase classname="tests.test_a" name="a &amp; b" file="tests/test_a.py" time="0.5"/>
    <testcase classname="tests.test_a" name="c"><error message="boom"><![CDATA[Traceback <x>]]></error></testcase>
    <testcase classname="tests.test_a" name="d"><skipped message="later"/></testcase>
  </testsuite>
</testsuites>`;
    const r = parseTestReport({ output: xml, exitCode: 1 });
    expect(r.ok && r.result.cases).toEqual([
      { name: 'a & b', file: 'tests/test_a.py', status: 'passed', duration_ms: 500 },
      { name: 'c', status: 'failed', message: 'boom' },
      { name: 'd', status: 'skipped' },
    ]);
    const suiteError = `<testsuites><testsuite name="tests/x.test.js"><error message="SyntaxError"/></testsuite></testsuites>`;
    expect(parseTestReport({ output: suiteError, exitCode: 1 })).toMatchObject({
      ok: false,
      error: 'load_error',
    });
  });
});
