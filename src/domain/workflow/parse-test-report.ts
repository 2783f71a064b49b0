import type { TestCaseResult, TestReportFormat, TestResultArtifact } from '../../contracts/artifacts.ts';
import { parseJUnit } from './parse-junit.ts';
import { parseNodeSpec } from './parse-node-spec.ts';
import { parseTap } from './parse-tap.ts';
import { looksLikeFile, type RawCase, type RawParse } from './raw-case.ts';

/** Why a report is no evidence at all (a gate **error**, never a pass or a plain failure). */
export const TestReportError = {
  /** The runner could not be started: exit 126 (not executable) or 127 (not found). */
  NOT_RUNNABLE: 'not_runnable',
  /** A test file did not load (syntax error, missing import), or the runner bailed out. */
  LOAD_ERROR: 'load_error',
  /** The report holds no test case. */
  NO_TESTS: 'no_tests',
  /** The output is not a report in any format the parsers read. */
  UNPARSEABLE: 'unparseable',
  /** The executor killed the runner at its timeout: whatever it printed is no whole report. */
  TIMED_OUT: 'timed_out',
  /** The output exceeded the executor's cap: a report with its middle cut out could hide failures. */
  TRUNCATED: 'truncated',
  /** The working tree changed while the tests ran: the run is evidence for no tree. */
  TREE_CHANGED: 'tree_changed',
} as const;
export type TestReportError = (typeof TestReportError)[keyof typeof TestReportError];

/** A parsed test report, or the reason it is no evidence. */
export type ParsedTestReport =
  | { ok: true; result: TestResultArtifact }
  | { ok: false; error: TestReportError; message: string; details?: Record<string, unknown> };

/** What a runner left behind: its output and exit code (null: killed by a signal). */
export interface TestRunOutput {
  output: string;
  exitCode: number | null;
  /** The format, when the caller knows it; otherwise it is detected from the output. */
  format?: TestReportFormat;
  command?: string;
}

/** The report format `output` is in, or null. */
export function detectFormat(output: string): TestReportFormat | null {
  if (/<testsuites?\b/.test(output)) return 'junit';
  if (/^TAP version \d+/m.test(output) || /^\s*(not )?ok\b/m.test(output)) return 'tap';
  if (/^ℹ tests \d+/mu.test(output)) return 'node-spec';
  return null;
}

const parsers: Record<TestReportFormat, (text: string) => RawParse> = {
  tap: parseTap,
  junit: parseJUnit,
  'node-spec': parseNodeSpec,
};

function toCase(raw: RawCase): TestCaseResult {
  const c: TestCaseResult = { name: raw.name, status: raw.status };
  if (raw.file !== undefined) c.file = raw.file;
  if (raw.message !== undefined) c.message = raw.message;
  if (raw.durationMs !== undefined) c.duration_ms = raw.durationMs;
  return c;
}

/**
 * `node --test` reports a test file that holds no test as a passing case named after the file (a top-level TAP or
 * spec point, a JUnit case named by its path): a file, not a test, so it never counts as one that ran.
 */
const isEmptyFile = (c: RawCase): boolean =>
  c.status === 'passed' && looksLikeFile(c.ownName) && (c.topLevel || /[\\/]/.test(c.ownName));

/**
 * Parses a test runner's output (TAP 13/14, JUnit XML, `node --test` spec) with its exit code into a
 * `test_result`. Exit 126/127, a file that did not load, no test case, or text in no known format answer an
 * error instead: such a run proves nothing, neither that tests fail nor that they pass.
 */
export function parseTestReport(run: TestRunOutput): ParsedTestReport {
  if (run.exitCode === 126 || run.exitCode === 127)
    return {
      ok: false,
      error: TestReportError.NOT_RUNNABLE,
      message: `the test command could not run (exit ${run.exitCode})`,
      details: { exitCode: run.exitCode },
    };
  const format = run.format ?? detectFormat(run.output);
  if (format === null)
    return {
      ok: false,
      error: TestReportError.UNPARSEABLE,
      message: 'the output is not TAP, JUnit XML or node --test spec',
    };
  const parsed = parsers[format](run.output);
  if (!parsed.ok)
    return {
      ok: false,
      error: TestReportError.UNPARSEABLE,
      message: `not a ${format} report: ${parsed.message}`,
    };
  const cases = parsed.cases.filter((c) => !isEmptyFile(c));
  const loadErrors = cases.filter(
    (c) => c.loadError || (c.status === 'failed' && c.topLevel && looksLikeFile(c.ownName)),
  );
  if (loadErrors.length > 0)
    return {
      ok: false,
      error: TestReportError.LOAD_ERROR,
      message: `${loadErrors.length} test file(s) did not load: ${loadErrors.map((c) => c.file ?? c.name).join(', ')}`,
      details: { files: loadErrors.map((c) => ({ file: c.file ?? c.name, message: c.message ?? null })) },
    };
  if (cases.length === 0)
    return { ok: false, error: TestReportError.NO_TESTS, message: 'the report holds no test case' };
  const count = (s: TestCaseResult['status']) => cases.filter((c) => c.status === s).length;
  const result: TestResultArtifact = {
    format,
    exit_code: run.exitCode,
    counts: {
      total: cases.length,
      passed: count('passed'),
      failed: count('failed'),
      skipped: count('skipped'),
      todo: count('todo'),
    },
    cases: cases.map(toCase),
  };
  if (run.command !== undefined) result.command = run.command;
  return { ok: true, result };
}
