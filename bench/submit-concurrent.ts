/**
 * Durable submits with a fixed number in flight (default 1,000): a new `jobs.submit` starts as soon as one
 * answers, so group commit shares each transaction (and fsync) among many submits. Reports submits/s, the
 * p50/p99 latency of a submit (call to durable answer), and CPU and GC time per submit, as the median of `RUNS`
 * runs on one runtime (default settings; every actor is passivated between runs).
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
const N = size('CONCURRENT_N', 50_000, 5_000);
const IN_FLIGHT = size('IN_FLIGHT', 1_000, 1_000);
const RUNS = size('RUNS', 5, 2);

const dir = tempDir();
const ov = await open(dir.path, mode);
const jobs = ov.workspace('bench').jobs;

/** Submits `n` jobs keeping `inFlight` pending; returns the latency of each in ms. */
async function window(n: number, inFlight: number): Promise<number[]> {
  const samples: number[] = [];
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < n) {
      const i = started++;
      const s = performance.now();
      await jobs.submit(jobInput(i));
      samples.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
  return samples;
}

try {
  await window(Math.min(N, 5_000), IN_FLIGHT);
  const runs: { perSec: number; p50: number; p99: number; cpuUs: number; gcUs: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    ov.runtime.host.passivate(Infinity);
    const stop = startCost();
    const samples = await window(N, IN_FLIGHT);
    const cost = await stop();
    const l = latency(samples);
    const run = {
      perSec: (N / cost.wallMs) * 1000,
      p50: l.p50,
      p99: l.p99,
      cpuUs: (cost.cpuMs * 1000) / N,
      gcUs: (cost.gcMs * 1000) / N,
    };
    progress(
      `submit-concurrent ${mode} run ${r + 1}/${RUNS}: ${Math.round(run.perSec)}/s, p50 ${run.p50.toFixed(1)} ms, ` +
        `p99 ${run.p99.toFixed(1)} ms, ${run.cpuUs.toFixed(0)} µs CPU/submit (load ${load1()})`,
    );
    runs.push(run);
  }
  const s = (k: keyof (typeof runs)[number]) => spread(runs.map((r) => r[k]));
  const perSec = s('perSec');
  const p50 = s('p50');
  const p99 = s('p99');
  const cpuUs = s('cpuUs');
  const gcUs = s('gcUs');
  report({
    bench: 'submit-concurrent',
    mode,
    inFlight: IN_FLIGHT,
    submitsPerRun: N,
    runs: RUNS,
    perSec: round(perSec.median, 0),
    p50Ms: round(p50.median, 2),
    p99Ms: round(p99.median, 2),
    cpuUsPerSubmit: round(cpuUs.median, 1),
    gcUsPerSubmit: round(gcUs.median, 1),
    spread: { perSec, p50Ms: p50, p99Ms: p99, cpuUs, gcUs },
  });
} finally {
  await ov.close();
  dir.remove();
}
