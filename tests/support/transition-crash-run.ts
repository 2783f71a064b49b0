/**
 * Runs tests/support/transition-crash-workload.ts in a child process until it dies, and reads what a restart
 * finds: the job's phase, its artifacts and the journal's phase moves, then the answer of a retry of the move with
 * the same Idempotency-Key and the phase its token is for.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createOverseer } from '../../src/index.ts';
import {
  CRASH_SECRET,
  CRASH_WORKSPACE,
  HEARTBEAT_TIMEOUT_SECONDS,
  MOVE,
  MOVE_KEY,
  type Claimed,
  type CrashPoint,
} from './transition-crash-workload.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const workload = fileURLToPath(new URL('./transition-crash-workload.ts', import.meta.url));
/** A child that reaches no kill in this long has stalled (a failure, not a kill). */
const STALL_MS = 20_000;

/** How the child ended and what it said. */
export interface CrashRun {
  signal: NodeJS.Signals | null;
  code: number | null;
  lines: string[];
  stderr: string;
  stalled: boolean;
  claimed: Claimed | undefined;
}

/**
 * Runs the workload with `point` armed; with `killAfterInvokeMs`, this process SIGKILLs it that long after it
 * printed `invoke` (for point `none`).
 */
export function runTransitionCrash(
  dataDir: string,
  point: CrashPoint,
  killAfterInvokeMs?: number,
): Promise<CrashRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', workload, dataDir, point], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stalled = false;
    const stall = setTimeout(() => {
      stalled = true;
      child.kill('SIGKILL');
    }, STALL_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const seen = stdout.includes('\ninvoke\n') || stdout.startsWith('invoke\n');
      stdout += chunk;
      const now = stdout.includes('\ninvoke\n') || stdout.startsWith('invoke\n');
      if (!seen && now && killAfterInvokeMs !== undefined)
        setTimeout(() => child.kill('SIGKILL'), killAfterInvokeMs);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(stall);
      const lines = stdout.split('\n').filter((l) => l !== '');
      const claimedLine = lines.find((l) => l.startsWith('claimed '));
      resolve({
        signal,
        code,
        lines,
        stderr,
        stalled,
        claimed: claimedLine ? (JSON.parse(claimedLine.slice('claimed '.length)) as Claimed) : undefined,
      });
    });
  });
}

/** What a restart finds, then what a retry of the move with the same key answers. */
export interface AfterRestart {
  phase: string;
  epoch: number;
  artifacts: string[];
  /** The journal's phase moves of the job, `from → to`. */
  moves: string[];
  retry: { allowed: boolean; phase?: string; epoch?: number };
  /** The phase and epoch the retry's phase token is for. */
  retryToken: { phase: string; epoch: number } | undefined;
  /** The phase after the retry. */
  phaseAfterRetry: string;
  movesAfterRetry: string[];
}

export async function restartAndRetry(dataDir: string, claimed: Claimed): Promise<AfterRestart> {
  const ov = await createOverseer({
    dataDir,
    durability: 'flush',
    logLevel: 'silent',
    tokenSecret: CRASH_SECRET,
    heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_SECONDS,
  });
  try {
    const ws = ov.workspace(CRASH_WORKSPACE);
    const moves = async () =>
      (await ws.events.list({ limit: 500 })).events
        .filter((e) => e.kind === 'phase' && e.id === claimed.jobId)
        .map((e) => `${e.from ?? '∅'} → ${e.to}`);
    const before = (await ws.jobs.get(claimed.jobId)).phase!;
    const movesBefore = await moves();
    const agent = ov.workspace(CRASH_WORKSPACE, { principal: await ov.authenticate(claimed.phaseToken) });
    const retry = await agent.workflow.transition(MOVE, { idempotencyKey: MOVE_KEY });
    const token = retry.phaseToken ? (await ov.authenticate(retry.phaseToken.token)).phase : undefined;
    return {
      phase: before.phase,
      epoch: before.epoch,
      artifacts: Object.keys(before.artifacts).sort(),
      moves: movesBefore,
      retry: {
        allowed: retry.allowed,
        ...(retry.allowed ? { phase: retry.phase, epoch: retry.epoch } : {}),
      },
      retryToken: token ? { phase: token.phase, epoch: token.epoch } : undefined,
      phaseAfterRetry: (await ws.jobs.get(claimed.jobId)).phase!.phase,
      movesAfterRetry: await moves(),
    };
  } finally {
    await ov.close();
  }
}
