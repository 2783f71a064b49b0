import { spawn } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OutputCapture } from './output-capture.ts';
import { DEFAULT_PATH, scrubbedEnv } from './scrubbed-env.ts';
import { resolveWorkdir } from './workdir.ts';

/** A command for the trusted executor. */
export interface RunCommandOptions {
  /** The working directory: at or under one of `workdirRoots`, and apart from `dataDir` (both by real path). */
  cwd: string;
  /** The program and its arguments, run without a shell. */
  argv: readonly [string, ...string[]];
  /** The run's time limit: then the process group gets SIGTERM, and SIGKILL `killGraceMs` later. */
  timeoutMs: number;
  /** How much output (stdout and stderr together) is kept: the first and the last half of it. */
  outputCapBytes: number;
  /** The directories a command may run in (`workflow.workdirRoots`). None refuses every directory. */
  workdirRoots: readonly string[];
  /** The node's data directory: never the working directory, nor inside or around it. */
  dataDir: string;
  /** The explicit allowlist of further variables (no `OVERSEER_*`); nothing else comes from `process.env`. */
  env?: Readonly<Record<string, string>>;
  /** The search path (default: the node's PATH). */
  path?: string;
  /** Run as this OS user and group (the node needs the privilege to switch). */
  uid?: number;
  gid?: number;
  /** Between SIGTERM and SIGKILL on timeout (default 2 s). */
  killGraceMs?: number;
}

/** How a command ended. */
export interface CommandResult {
  /** The exit code; null when a signal ended it. 127 (not found) and 126 (not executable) as a shell says. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  durationMs: number;
  /** stdout and stderr as they came, capped (head, a marker, tail). */
  output: string;
  truncated: boolean;
}

/** Signals every process of the group led by `pid`; a group already gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Runs a command as the trusted executor: no shell, a scrubbed environment with a temporary HOME, its own process
 * group (killed whole on timeout, and reaped when the command exits so nothing it started lives on), and capped
 * output. Throws `VALIDATION_FAILED` for a refused directory or variable; a program that is missing or not
 * executable is a result with exit 127 or 126, as a shell would report it.
 *
 * @example
 * const r = await runCommand({ cwd: '/srv/work/job-1', argv: ['npm', 'test'], timeoutMs: 600_000,
 *   outputCapBytes: 1 << 20, workdirRoots: ['/srv/work'], dataDir: '/var/lib/overseer' });
 */
export async function runCommand(options: RunCommandOptions): Promise<CommandResult> {
  const cwd = await resolveWorkdir(options.cwd, options.workdirRoots, options.dataDir);
  const home = await mkdtemp(join(tmpdir(), 'overseer-home-'));
  try {
    const env = scrubbedEnv({
      home,
      path: options.path ?? process.env['PATH'] ?? DEFAULT_PATH,
      ...(options.env ? { extra: options.env } : {}),
    });
    if (options.uid !== undefined) await chown(home, options.uid, options.gid ?? process.getgid!());
    return await spawnCapped(cwd, env, options);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function spawnCapped(
  cwd: string,
  env: Record<string, string>,
  options: RunCommandOptions,
): Promise<CommandResult> {
  const [program, ...args] = options.argv;
  const capture = new OutputCapture(options.outputCapBytes);
  const started = performance.now();
  const grace = options.killGraceMs ?? 2_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    const timers: NodeJS.Timeout[] = [];
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let done = false;
    const finish = (result: Omit<CommandResult, 'durationMs' | 'output' | 'truncated'>) => {
      timers.forEach(clearTimeout);
      if (done) return;
      done = true;
      const { output, truncated } = capture.result();
      resolvePromise({ ...result, durationMs: Math.round(performance.now() - started), output, truncated });
    };
    child.stdout.on('data', (chunk: Buffer) => capture.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => capture.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // a failed kill on a live child: its exit still comes
      timers.forEach(clearTimeout);
      const notFound = error.code === 'ENOENT';
      if (!notFound && error.code !== 'EACCES') return reject(error);
      capture.push(
        Buffer.from(
          `overseer executor: ${program}: ${notFound ? 'command not found' : 'permission denied'}\n`,
        ),
      );
      finish({ exitCode: notFound ? 127 : 126, signal: null, timedOut: false });
    });
    const pid = child.pid;
    if (pid === undefined) return;
    timers.push(
      setTimeout(() => {
        timedOut = true;
        signalGroup(pid, 'SIGTERM');
        timers.push(setTimeout(() => signalGroup(pid, 'SIGKILL'), grace));
      }, options.timeoutMs),
    );
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Whatever the command left running in its group goes with it.
      signalGroup(pid, 'SIGKILL');
      // A process that left the group may hold the pipes open: stop reading after the grace.
      timers.push(
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, grace),
      );
    });
    child.on('close', () => {
      const ended = exit ?? { code: child.exitCode, signal: child.signalCode };
      finish({ exitCode: ended.code, signal: ended.signal, timedOut });
    });
  });
}
