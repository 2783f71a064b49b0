/**
 * `jobs.submitMany`: one call at a time, each a batch of `BATCH` jobs (default 500 and 1,000, the most a call
 * takes) committed as one unit of work. Reports jobs/s, the p50/p99 latency of a call, and CPU and GC time per
 * job, as the median of `RUNS` runs per batch size on one runtime (default settings; every actor is passivated
 * between runs).
 */
import {
  benchArgs,
  jobInput,
  latency,
  load1,
  open,
  progress,
  report,
  round,
  size,
  spread,
  startCost,
  tempDir,
} from './lib.ts';

const { mode } = benchArgs();
const JOBS = size('MANY_N', 50_000, 10_000);
const RUNS = size('RUNS', 5, 2);
const BATCHES = process.env.BENCH_BATCH ? [Number(process.env.BENCH_BATCH)] : [500, 1_000];

const dir = tempDir();
const ov = await open(dir.path, mode);
const jobs = ov.workspace('bench').jobs;

async function run(batch: number, total: number): Promise<{ jobs: number; samples: number[] }> {
  const calls = Math.max(1, Math.round(total / batch));
  const samples: number[] = [];
  for (let c = 0; c < calls; c++) {
    const inputs = Array.from({ length: batch }, (_, i) => jobInput(c * batch + i));
    const s = performance.now();
    await jobs.submitMany(inputs);
    samples.push(performance.now() - s);
  }
  return { jobs: calls * batch, samples };
}

try {
  await run(1_000, Math.min(JOBS, 10_000));
  const results: Record<string, unknown> = {};
  for (const batch of BATCHES) {
    const runs: { perSec: number; p50: number; p99: number; cpuUs: number; gcUs: number }[] = [];
    for (let r = 0; r < RUNS; r++) {
      ov.runtime.host.passivate(Infinity);
      const stop = startCost();
      const { jobs: n, samples } = await run(batch, JOBS);
      const cost = await stop();
      const l = latency(samples);
      const one = {
        perSec: (n / cost.wallMs) * 1000,
        p50: l.p50,
        p99: l.p99,
        cpuUs: (cost.cpuMs * 1000) / n,
        gcUs: (cost.gcMs * 1000) / n,
      };
      progress(
        `submitMany(${batch}) ${mode} run ${r + 1}/${RUNS}: ${Math.round(one.perSec)} jobs/s, call p50 ` +
          `${one.p50.toFixed(1)} ms, p99 ${one.p99.toFixed(1)} ms, ${one.cpuUs.toFixed(0)} µs CPU/job (load ${load1()})`,
      );
      runs.push(one);
    }
    const s = (k: keyof (typeof runs)[number]) => spread(runs.map((r) => r[k]));
    const perSec = s('perSec');
    const p50 = s('p50');
    const p99 = s('p99');
    const cpuUs = s('cpuUs');
    const gcUs = s('gcUs');
    results[String(batch)] = {
      jobsPerSec: round(perSec.median, 0),
      callP50Ms: round(p50.median, 2),
      callP99Ms: round(p99.median, 2),
      cpuUsPerJob: round(cpuUs.median, 1),
      gcUsPerJob: round(gcUs.median, 1),
      spread: { jobsPerSec: perSec, callP50Ms: p50, callP99Ms: p99, cpuUs, gcUs },
    };
  }
  report({ bench: 'submit-many', mode, jobsPerRun: JOBS, runs: RUNS, batches: results });
} finally {
  await ov.close();
  dir.remove();
}
