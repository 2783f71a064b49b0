/**
 * W1, the work queue: enqueue `W1_N` jobs (default 20,000; priorities 20/60/20 high/normal/low, shuffled with a
 * seeded PRNG) with `submitMany` in batches of 1,000 (two calls in flight), then drain them with C concurrent
 * consumers (C = 8, then 64; each a registered worker) looping claim → complete with `claimNext: true` until the
 * queue is empty. Then a latency run: a steady `W1_RATE` jobs/s (default 2,000) for `W1_SECONDS` s (default 10),
 * one `jobs.submit` every 1/rate s from a timer loop that catches up, with 8 consumers long-polling
 * `claim({ waitMs: 1000 })` → complete with claimNext; per job, submit-call start → complete acknowledged. Before
 * it, the same at `W1_LOW_RATE` jobs/s (default 500, for `W1_LOW_SECONDS` = 5 s; no target): the latency below
 * saturation.
 *
 * Each of `RUNS` runs (default 3) uses a fresh runtime in a fresh data dir (warmed up with a small drain first),
 * and checks at its end that every job submitted is COMPLETED, and completed exactly once (queue.stats()).
 * Reports the medians.
 */
import type { WorkspaceClient } from '../src/index.ts';
import { CompletionLedger, enqueueW1, everyJobOnce, priorities, w1Input } from './w1-workload.ts';
import {
  benchArgs,
  latency,
  load1,
  open,
  progress,
  report,
  round,
  size,
  sleep,
  spread,
  startCost,
  tempDir,
} from './lib.ts';

const { mode } = benchArgs();
const N = size('W1_N', 20_000, 2_000);
const BATCH = size('W1_BATCH', 1_000, 500);
const CONSUMERS = [8, 64];
const RATE = size('W1_RATE', 2_000, 2_000);
const SECONDS = size('W1_SECONDS', 10, 2);
/** A second, lighter latency run (no target): the latency floor below saturation. 0 skips it. */
const LOW_RATE = size('W1_LOW_RATE', 500, 500);
const LOW_SECONDS = size('W1_LOW_SECONDS', 5, 1);
const LATENCY_CONSUMERS = 8;
const RUNS = size('RUNS', 3, 1);
const WARMUP = size('W1_WARMUP', 2_000, 500);

/** One consumer: claim, then complete with claimNext until the answer carries no next job. */
async function drainLoop(ws: WorkspaceClient, workerId: string, ledger: CompletionLedger): Promise<void> {
  let answer = await ws.queue.claim({ workerId });
  while (answer.job && answer.lease) {
    const jobId = answer.job.id;
    const done = await ws.queue.complete({ jobId, leaseToken: answer.lease.token, claimNext: true });
    ledger.record(jobId);
    answer = done.next ?? { job: null };
  }
}

/** C consumers drain the queue; answers jobs/s (first claim to last complete). */
async function drain(ws: WorkspaceClient, workers: string[], ledger: CompletionLedger): Promise<number> {
  const before = ledger.count;
  const t0 = performance.now();
  await Promise.all(workers.map((w) => drainLoop(ws, w, ledger)));
  return ((ledger.count - before) / (performance.now() - t0)) * 1000;
}

/**
 * A steady `rate` jobs/s for `seconds` s: a timer loop submits every job that is due (catching up after a late
 * timer) while `consumers` long-poll. Answers the submit-start → complete-acknowledged latency of each job (ms).
 */
async function steady(
  ws: WorkspaceClient,
  workers: string[],
  ledger: CompletionLedger,
  seed: number,
  rate: number,
  seconds: number,
): Promise<{ samples: number[]; achievedRate: number; maxLagMs: number; jobs: number }> {
  const total = Math.round(rate * seconds);
  const prios = priorities(total, seed);
  const started = new Float64Array(total);
  const samples: number[] = [];
  let stop = false;
  // The runtime's own timers are unref'd (a parked claim's is not): keep the process alive between submits.
  const keepAlive = setInterval(() => undefined, 1_000);
  const consumer = async (workerId: string): Promise<void> => {
    while (!stop) {
      let answer = await ws.queue.claim({ workerId, waitMs: 1_000 });
      while (answer.job && answer.lease) {
        const jobId = answer.job.id;
        const seq = answer.job.metadata?.['seq'] as number;
        const done = await ws.queue.complete({ jobId, leaseToken: answer.lease.token, claimNext: true });
        samples.push(performance.now() - started[seq]!);
        ledger.record(jobId);
        answer = done.next ?? { job: null };
      }
    }
  };
  const consumers = workers.map(consumer);
  const submits: Promise<unknown>[] = [];
  const interval = 1_000 / rate;
  let submitted = 0;
  let maxLagMs = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) / interval) + 1);
      if (due > submitted) maxLagMs = Math.max(maxLagMs, now - (t0 + (submitted + 1) * interval));
      while (submitted < due) {
        const i = submitted++;
        started[i] = performance.now();
        submits.push(ws.jobs.submit({ ...w1Input(i, prios[i]!), metadata: { seq: i } }));
      }
      if (submitted >= total) resolve();
      else setTimeout(tick, 0);
    };
    tick();
  });
  const achievedRate = (total / (performance.now() - t0)) * 1000;
  await Promise.all(submits);
  const deadline = performance.now() + 120_000;
  while (samples.length < total) {
    if (performance.now() > deadline) throw new Error(`w1: only ${samples.length}/${total} jobs completed`);
    await sleep(5);
  }
  stop = true;
  await Promise.all(consumers);
  clearInterval(keepAlive);
  return { samples, achievedRate, maxLagMs, jobs: total };
}

interface Run {
  enqueuePerSec: number;
  drain: Record<number, number>;
  p50: number;
  p99: number;
  max: number;
  achievedRate: number;
  maxLagMs: number;
  cpuUsPerJobLatency: number;
  low: { p50: number; p99: number } | null;
  exactlyOnce: boolean;
  load: number;
}

async function run(r: number): Promise<Run> {
  const dir = tempDir();
  const ov = await open(dir.path, mode);
  try {
    const ws = ov.workspace('bench');
    const host = ov.runtime.host;
    // Fresh workers for each phase: an idle registered worker goes OFFLINE after heartbeatTimeoutSeconds (30 s).
    const register = async (n: number, phase: string): Promise<string[]> =>
      (
        await Promise.all(
          Array.from({ length: n }, (_, i) => ws.workers.register({ name: `w1-${phase}-${i}` })),
        )
      ).map((w) => w.id);
    const ledger = new CompletionLedger();
    let submitted = 0;

    // Warm-up (JIT, LMDB map): a small enqueue and drain, not measured.
    await enqueueW1(ws, WARMUP, 7, BATCH);
    await drain(ws, await register(8, 'warmup'), ledger);
    submitted += WARMUP;

    const drainRates: Record<number, number> = {};
    const enqueueRates: number[] = [];
    for (const c of CONSUMERS) {
      host.passivate(Infinity);
      enqueueRates.push(await enqueueW1(ws, N, 42 + c, BATCH));
      submitted += N;
      const ids = await register(c, `drain${c}`);
      await host.pipeline.idle();
      host.passivate(Infinity);
      drainRates[c] = await drain(ws, ids, ledger);
      progress(
        `w1 ${mode} run ${r + 1}/${RUNS}: enqueue ${Math.round(enqueueRates.at(-1)!)} jobs/s, ` +
          `drain with ${c} consumers ${Math.round(drainRates[c])} jobs/s (load ${load1()})`,
      );
    }

    let low: { p50: number; p99: number } | null = null;
    if (LOW_RATE > 0) {
      const lowIds = await register(LATENCY_CONSUMERS, 'latency-low');
      host.passivate(Infinity);
      const sl = await steady(ws, lowIds, ledger, 98, LOW_RATE, LOW_SECONDS);
      submitted += sl.jobs;
      low = latency(sl.samples);
      progress(
        `w1 ${mode} run ${r + 1}/${RUNS}: ${LOW_RATE} jobs/s for ${LOW_SECONDS} s: p50 ${low.p50.toFixed(2)} ms, ` +
          `p99 ${low.p99.toFixed(2)} ms (load ${load1()})`,
      );
    }

    const ids = await register(LATENCY_CONSUMERS, 'latency');
    host.passivate(Infinity);
    const stopCost = startCost();
    const s = await steady(ws, ids, ledger, 99, RATE, SECONDS);
    const cost = await stopCost();
    submitted += s.jobs;
    const l = latency(s.samples);
    progress(
      `w1 ${mode} run ${r + 1}/${RUNS}: ${RATE} jobs/s for ${SECONDS} s (achieved ${Math.round(s.achievedRate)}/s, ` +
        `max timer lag ${s.maxLagMs.toFixed(1)} ms): p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, ` +
        `max ${l.max.toFixed(1)} ms (load ${load1()})`,
    );

    const exactlyOnce = await everyJobOnce(ws, submitted, ledger, `w1 ${mode}`);
    return {
      enqueuePerSec: enqueueRates.reduce((a, b) => a + b, 0) / enqueueRates.length,
      drain: drainRates,
      p50: l.p50,
      p99: l.p99,
      max: l.max,
      achievedRate: s.achievedRate,
      maxLagMs: s.maxLagMs,
      cpuUsPerJobLatency: (cost.cpuMs * 1000) / s.jobs,
      low,
      exactlyOnce,
      load: load1(),
    };
  } finally {
    await ov.close();
    dir.remove();
  }
}

const runs: Run[] = [];
for (let r = 0; r < RUNS; r++) runs.push(await run(r));

const enqueuePerSec = spread(runs.map((r) => r.enqueuePerSec));
const drainSpread = Object.fromEntries(CONSUMERS.map((c) => [c, spread(runs.map((r) => r.drain[c]!))]));
const p50 = spread(runs.map((r) => r.p50));
const p99 = spread(runs.map((r) => r.p99));
const max = spread(runs.map((r) => r.max));
const exactlyOnce = runs.every((r) => r.exactlyOnce);

const targets =
  mode === 'flush'
    ? [
        {
          metric: 'drain, 8 consumers (jobs/s)',
          value: drainSpread[8]!.median,
          target: '≥ 6,500/s',
          ok: (v: number) => v >= 6_500,
        },
        {
          metric: 'drain, 64 consumers (jobs/s)',
          value: drainSpread[64]!.median,
          target: '≥ 12,000/s',
          ok: (v: number) => v >= 12_000,
        },
        {
          metric: `${RATE} jobs/s: enqueue-to-complete p50 (ms)`,
          value: p50.median,
          target: '≤ 2.5 ms',
          ok: (v: number) => v <= 2.5,
        },
        {
          metric: `${RATE} jobs/s: enqueue-to-complete p99 (ms)`,
          value: p99.median,
          target: '≤ 15 ms',
          ok: (v: number) => v <= 15,
        },
      ]
    : [
        {
          metric: 'drain, 8 consumers (jobs/s)',
          value: drainSpread[8]!.median,
          target: '≥ 16,000/s',
          ok: (v: number) => v >= 16_000,
        },
        {
          metric: `${RATE} jobs/s: enqueue-to-complete p99 (ms)`,
          value: p99.median,
          target: '≤ 7 ms',
          ok: (v: number) => v <= 7,
        },
      ];

report({
  bench: 'w1',
  mode,
  jobs: N,
  batch: BATCH,
  runs: RUNS,
  enqueuePerSec: round(enqueuePerSec.median, 0),
  drainPerSec: Object.fromEntries(CONSUMERS.map((c) => [c, round(drainSpread[c]!.median, 0)])),
  latency: {
    rate: RATE,
    seconds: SECONDS,
    consumers: LATENCY_CONSUMERS,
    p50Ms: round(p50.median, 2),
    p99Ms: round(p99.median, 2),
    maxMs: round(max.median, 2),
    achievedRate: round(spread(runs.map((r) => r.achievedRate)).median, 0),
    maxTimerLagMs: round(spread(runs.map((r) => r.maxLagMs)).median, 2),
    cpuUsPerJob: round(spread(runs.map((r) => r.cpuUsPerJobLatency)).median, 1),
  },
  latencyLow:
    LOW_RATE > 0
      ? {
          rate: LOW_RATE,
          seconds: LOW_SECONDS,
          consumers: LATENCY_CONSUMERS,
          p50Ms: round(spread(runs.map((r) => r.low!.p50)).median, 2),
          p99Ms: round(spread(runs.map((r) => r.low!.p99)).median, 2),
        }
      : null,
  exactlyOnce,
  load: runs.map((r) => r.load),
  targets: [
    ...targets.map((t) => ({
      metric: t.metric,
      value: round(t.value, 2),
      target: t.target,
      met: t.ok(t.value),
    })),
    { metric: 'every job COMPLETED exactly once', value: exactlyOnce, target: 'yes', met: exactlyOnce },
  ],
  spread: { enqueuePerSec, drain: drainSpread, p50Ms: p50, p99Ms: p99, maxMs: max },
});
if (!exactlyOnce) process.exitCode = 1;
