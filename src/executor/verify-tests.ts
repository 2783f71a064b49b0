import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { TestReportFormat } from '../contracts/artifacts.ts';
import type { Clock } from '../core/clock.ts';
import {
  parseTestReport,
  TestReportError,
  type ParsedTestReport,
} from '../domain/workflow/parse-test-report.ts';
import type { GitTreeOptions } from './isolated-git.ts';
import { runCommand, type CommandResult, type RunCommandOptions } from './run-command.ts';
import { treeHash } from './tree-hash.ts';
import { resolveWorkdir } from './workdir.ts';

/** A test run for verified evidence: the command options, with the test command as `command`. */
export interface VerifyTestsOptions extends Omit<RunCommandOptions, 'argv'> {
  /** The workflow's test command, run without a shell (`['node', '--test', '--test-reporter=tap']`). */
  command: readonly [string, ...string[]];
  /** The report format, when the command's reporter is known; detected from the output otherwise. */
  format?: TestReportFormat;
  /** Where the tree hashes' git objects go (see `treeHash`). */
  objectsDir?: string;
  /** The source of `startedAt` (default: the wall clock). */
  clock?: Pick<Clock, 'now'>;
}

/** Who produced a piece of evidence. */
export interface ExecutorIdentity {
  kind: 'node';
  host: string;
  pid: number;
}

/**
 * Verified evidence of one test run: the tree it ran on and what the runner said about it. Its `report` and
 * `treeHash` are the `TestRunEvidence` the gates read; a report that is no evidence (the tree changed during the
 * run, a timeout, a cut output, a load error, exit 126/127, no tests, no report) is an error, never a pass.
 */
export interface TestEvidence {
  /** The working tree's hash, taken before the run (and found unchanged after it, or `report` says so). */
  treeHash: string;
  command: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  report: ParsedTestReport;
  /** `sha256:<hex>` of `output` as kept. */
  outputDigest: string;
  /** The runner's output (stdout and stderr), capped. */
  output: string;
  truncated: boolean;
  executor: ExecutorIdentity;
  /** When the command started (ISO 8601). */
  startedAt: string;
  durationMs: number;
}

/** The command line as one string, for the report (arguments with blanks or quotes are single-quoted). */
function commandLine(argv: readonly string[]): string {
  const quoted = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return quoted.join(' ').slice(0, 1_000);
}

/** The report the gates see: a void run first, then the parsers' verdict on the output. */
function judge(
  run: CommandResult,
  before: string,
  after: string,
  options: VerifyTestsOptions,
): ParsedTestReport {
  if (after !== before)
    return {
      ok: false,
      error: TestReportError.TREE_CHANGED,
      message: 'the working tree changed while the tests ran',
      details: { treeHashBefore: before, treeHashAfter: after },
    };
  if (run.timedOut)
    return {
      ok: false,
      error: TestReportError.TIMED_OUT,
      message: `the test command timed out after ${options.timeoutMs} ms`,
      details: { timeoutMs: options.timeoutMs },
    };
  if (run.truncated)
    return {
      ok: false,
      error: TestReportError.TRUNCATED,
      message: `the test output exceeded the cap of ${options.outputCapBytes} bytes`,
      details: { outputCapBytes: options.outputCapBytes },
    };
  const parsed = parseTestReport({
    output: run.output,
    exitCode: run.exitCode,
    command: commandLine(options.command),
    ...(options.format ? { format: options.format } : {}),
  });
  return parsed.ok ? { ok: true, result: { ...parsed.result, tree_hash: before } } : parsed;
}

/**
 * Runs the workflow's test command on a working tree as the trusted executor and answers verified evidence: the
 * tree hash before the run (checked unchanged after it), the exit code, the parsed report and the capped output.
 * Throws `VALIDATION_FAILED` for a directory outside the roots or near the data directory.
 *
 * @example
 * const evidence = await verifyTests({ cwd: '/srv/work/job-1', command: ['node', '--test', '--test-reporter=tap'],
 *   format: 'tap', workdirRoots: ['/srv/work'], dataDir: '/var/lib/overseer', timeoutMs: 600_000,
 *   outputCapBytes: 1 << 20 });
 * const gateFacts = { testRun: { report: evidence.report, treeHash: evidence.treeHash } };
 */
export async function verifyTests(options: VerifyTestsOptions): Promise<TestEvidence> {
  const cwd = await resolveWorkdir(options.cwd, options.workdirRoots, options.dataDir);
  const git: GitTreeOptions = options.objectsDir === undefined ? {} : { objectsDir: options.objectsDir };
  const before = await treeHash(cwd, git);
  const startedAt = new Date((options.clock ?? Date).now()).toISOString();
  const { command, format: _format, objectsDir: _objects, clock: _clock, ...rest } = options;
  const run = await runCommand({ ...rest, cwd, argv: command });
  const after = await treeHash(cwd, git);
  return {
    treeHash: before,
    command: [...command],
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    report: judge(run, before, after, options),
    outputDigest: `sha256:${createHash('sha256').update(run.output).digest('hex')}`,
    output: run.output,
    truncated: run.truncated,
    executor: { kind: 'node', host: hostname(), pid: process.pid },
    startedAt,
    durationMs: run.durationMs,
  };
}
