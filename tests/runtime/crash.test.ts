/**
 * Crash test: a child process runs a workload (thousands of keyed submits, worker pause/resume); the test kills
 * it with SIGKILL at 20 seeded random points, restarting it on the same data dir each time, then checks the
 * history against the final state: 0 acknowledged commands lost, 0 applied twice, a clean reopen every time.
 *
 * Reproduce a failure with the seed it prints: `CRASH_SEED=<seed> npx vitest run tests/runtime/crash.test.ts`.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { createOverseer, type Job, type Worker } from '../../src/index.ts';
import { tempDataDir } from '../../src/testing.ts';
import {
  CRASH_WORKSPACE,
  HEARTBEAT_TIMEOUT_SECONDS,
  jobPayload,
  keyOfJobTitle,
  keyOfWorkerName,
  mulberry32,
  workerPayload,
  type ResendFile,
} from '../support/crash-workload.ts';
import { checkHistory, describeReport, History, type Operation } from '../support/history.ts';

const SEED = Number(process.env.CRASH_SEED ?? 20_260_101);
const KILLS = 20;
/** A run that reaches no kill point in this long has stalled (a hang is a failure, not a kill). */
const STALL_MS = 15_000;
/** About 25 s per mode on an idle 2-core machine (both modes run side by side); headroom for a loaded one. */
const TEST_TIMEOUT_MS = 120_000;
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const workload = fileURLToPath(new URL('../support/crash-workload.ts', import.meta.url));

console.log(
  `crash test seed ${SEED} (reproduce: CRASH_SEED=${SEED} npx vitest run tests/runtime/crash.test.ts)`,
);

type Durability = 'flush' | 'commit';
/** Kill after the child printed `n` ok lines, or `ms` after it printed `ready`. */
type KillPoint = { oks: number } | { afterReadyMs: number };

interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stalled: boolean;
}

function killPoints(seed: number): KillPoint[] {
  const rand = mulberry32(seed);
  return Array.from({ length: KILLS }, () =>
    rand() < 0.75 ? { oks: 20 + Math.floor(rand() * 381) } : { afterReadyMs: 20 + Math.floor(rand() * 281) },
  );
}

function runChild(args: string[], kill: KillPoint): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', workload, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let oks = 0;
    let scanned = 0;
    let killed = false;
    let stalled = false;
    const sigkill = () => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const stall = setTimeout(() => {
      stalled = true;
      sigkill();
    }, STALL_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (killed) return;
      // Look only at complete lines not seen before.
      const end = stdout.lastIndexOf('\n');
      if (end < scanned) return;
      for (const line of stdout.slice(scanned, end).split('\n')) {
        if (line.startsWith('ok ')) oks++;
        else if (line === 'ready' && 'afterReadyMs' in kill) setTimeout(sigkill, kill.afterReadyMs);
      }
      scanned = end + 1;
      if ('oks' in kill && oks >= kill.oks) sigkill();
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(stall);
      resolve({ stdout, stderr, code, signal, stalled });
    });
  });
}

/** Runs up to `limit` calls at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

const countBy = <T>(items: readonly T[], key: (item: T) => string | null): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
};

describe('crash: SIGKILL at seeded random points', () => {
  // The two modes run side by side (each test is a chain of child processes, mostly waiting on them).
  it.concurrent.for<Durability>(['flush', 'commit'])(
    'loses no acknowledged command and applies none twice (durability %s)',
    { timeout: TEST_TIMEOUT_MS },
    async (durability, { expect, onTestFinished }) => {
      const started = performance.now();
      const dir = tempDataDir('overseer-crash-');
      onTestFinished(() => dir.remove());
      const dataDir = join(dir.path, 'data');
      const seed = durability === 'flush' ? SEED : SEED + 1;
      const points = killPoints(seed);
      const pick = mulberry32(seed ^ 0x5bd1e995);
      const history = new History();
      const runs: { signal: NodeJS.Signals | null; unknown: number; ready: boolean }[] = [];

      for (let run = 0; run < KILLS; run++) {
        // Re-send every job key still without an answer, plus a sample of acknowledged ones.
        const answered = new Set(history.select('jobs.submit', 'ok').map((op) => op.key));
        const unresolved = [...new Set(history.select('jobs.submit', 'unknown').map((op) => op.key))].filter(
          (key) => !answered.has(key),
        );
        const acked = [...answered].filter(() => pick() < 0.01);
        const resendFile = join(dir.path, `resend-${run}.json`);
        writeFileSync(resendFile, JSON.stringify({ jobs: [...unresolved, ...acked] } satisfies ResendFile));

        const result = await runChild(
          [dataDir, String(run), String(seed), durability, resendFile],
          points[run]!,
        );
        const proc = `run-${run}`;
        const { other, orphans } = history.ingest(proc, result.stdout);
        const unknown = history.crash(proc);
        const ready = other.includes('ready');
        const noise = other.filter((l) => l !== 'ready'); // openfail, error: the child died on its own
        runs.push({ signal: result.signal, unknown, ready });
        const context = `run ${run} (seed ${seed}, kill ${JSON.stringify(points[run])}): ${noise.join(' / ')} ${result.stderr}`;
        expect(result.stalled, context).toBe(false);
        expect(ready, context).toBe(true);
        expect(noise, context).toEqual([]);
        expect(orphans, context).toEqual([]);
        expect(result.signal, context).toBe('SIGKILL');
      }

      // The 21st open, in this process: read the final state, then replay every acknowledged key (a replay
      // must return the first answer and create nothing), then read the state again.
      const ov = await createOverseer({
        dataDir,
        durability,
        logLevel: 'silent',
        heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_SECONDS,
      });
      let jobs: Job[];
      let workers: Worker[];
      let jobsAfterReplay: Job[];
      let workersAfterReplay: Worker[];
      try {
        const ws = ov.workspace(CRASH_WORKSPACE);
        const readAll = async (): Promise<{ jobs: Job[]; workers: Worker[] }> => {
          const all = { jobs: [] as Job[], workers: [] as Worker[] };
          for (let cursor: string | null | undefined; cursor !== null;) {
            const page = await ws.jobs.list({ limit: 500, ...(cursor ? { cursor } : {}) });
            all.jobs.push(...page.jobs);
            cursor = page.nextCursor;
          }
          for (let cursor: string | null | undefined; cursor !== null;) {
            const page = await ws.workers.list({ limit: 500, ...(cursor ? { cursor } : {}) });
            all.workers.push(...page.workers);
            cursor = page.nextCursor;
          }
          return all;
        };
        ({ jobs, workers } = await readAll());
        const acknowledged = (f: 'jobs.submit' | 'workers.register') => [
          ...new Set(history.select(f, 'ok').map((op) => op.key)),
        ];
        const settle = async (op: Operation, call: () => Promise<unknown>) => {
          try {
            history.ok(op, await call());
          } catch (err) {
            history.fail(op, String((err as { code?: unknown }).code ?? err));
          }
        };
        await pool(acknowledged('jobs.submit'), 64, (key) =>
          settle(history.invoke('verify', 'jobs.submit', key), () =>
            ws.jobs.submit(jobPayload(key), { idempotencyKey: key }),
          ),
        );
        await pool(acknowledged('workers.register'), 4, (key) =>
          settle(history.invoke('verify', 'workers.register', key), () =>
            ws.workers.register(workerPayload(key), { idempotencyKey: key }),
          ),
        );
        ({ jobs: jobsAfterReplay, workers: workersAfterReplay } = await readAll());
      } finally {
        await ov.close();
      }

      const jobCounts = countBy(jobs, (j) => keyOfJobTitle(j.title));
      const workerCounts = countBy(workers, (w) => keyOfWorkerName(w.name));
      const statusById = new Map(workers.map((w) => [w.id, w.status]));
      const report = checkHistory(history, {
        keyed: [
          {
            fs: ['jobs.submit'],
            applied: (key) => jobCounts.get(key) ?? 0,
            present: jobCounts.keys(),
            identity: (value) => (value as Job).id,
          },
          {
            fs: ['workers.register'],
            applied: (key) => workerCounts.get(key) ?? 0,
            present: workerCounts.keys(),
            identity: (value) => (value as Worker).id,
          },
        ],
        registers: [
          {
            fs: ['workers.pause', 'workers.resume'],
            target: (op) => (op.args as { workerId: string }).workerId,
            expected: (op) => (op.f === 'workers.pause' ? 'PAUSED' : 'IDLE'),
            observed: (id) => statusById.get(id),
          },
        ],
      });

      const submits = history.select('jobs.submit').filter((op) => op.process !== 'verify');
      const workerOps = history.ops.filter((op) => op.f === 'workers.pause' || op.f === 'workers.resume');
      const summary = {
        seed,
        durability,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        submits: submits.length,
        submitsAcked: submits.filter((op) => op.outcome === 'ok').length,
        workerOps: workerOps.length,
        jobs: jobs.length,
        unknownPerRun: runs.map((r) => r.unknown),
      };
      console.log(`crash ${JSON.stringify(summary)}\n${describeReport(report)}`);
      const why = `seed ${seed}, ${durability}: ${describeReport(report)}`;

      // The checker: nothing lost, nothing applied twice, nothing from nowhere, workers where we left them.
      expect(report.lost, why).toBe(0);
      expect(report.duplicated, why).toBe(0);
      expect(report.unexpected, why).toBe(0);
      expect(report.failedButApplied, why).toBe(0);
      expect(report.divergent, why).toBe(0);
      expect(report.registerInconsistent, why).toBe(0);
      expect(report.pass, why).toBe(true);
      // Nothing was refused: every failure would be a bug here (no conflicting or invalid commands are sent).
      expect(history.select(undefined, 'fail'), why).toEqual([]);
      // Every replay in the verifying process answered.
      expect(history.ops.filter((op) => op.process === 'verify' && op.outcome !== 'ok')).toEqual([]);
      // The replays created nothing and changed nothing.
      expect(jobsAfterReplay.map((j) => j.id)).toEqual(jobs.map((j) => j.id));
      expect(workersAfterReplay).toEqual(workers);
      // A clean reopen every time: 20 children and this process.
      expect(runs.filter((r) => r.ready)).toHaveLength(KILLS);
      // The fault happened: every run died of SIGKILL, with commands in flight.
      expect(runs.map((r) => r.signal)).toEqual(Array(KILLS).fill('SIGKILL'));
      expect(report.unknown).toBeGreaterThan(0);
      expect(runs.filter((r) => r.unknown > 0).length).toBeGreaterThanOrEqual(KILLS / 2);
      // And the workload was the one asked for: thousands of submits, real pause/resume traffic.
      expect(summary.submits).toBeGreaterThanOrEqual(1000);
      expect(workerOps.filter((op) => op.outcome === 'ok').length).toBeGreaterThan(KILLS);
    },
  );
});
