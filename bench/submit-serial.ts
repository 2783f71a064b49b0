/**
 * Durable submits one at a time: each `jobs.submit` is awaited before the next starts, so every submit pays a
 * whole commit (and in mode 'flush' a whole fsync). Reports submits/s, p50/p99 latency, and CPU and GC time per
 * submit, as the median of `RUNS` runs on one runtime (default settings; every actor is passivated between runs
 * so each run starts from the same live set).
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
const N = size('SERIAL_N', 5_000, 500);
const RUNS = size('RUNS', 5, 2);
const WARMUP = Math.min(500, N);

const dir = tempDir();
const ov = await open(dir.path, mode);
const jobs = ov.workspace('bench').jobs;
try {
  for (let i = 0; i < WARMUP; i++) await jobs.submit(jobInput(i));
  const runs: { perSec: number; p50: number; p99: number; cpuUs: number; gcUs: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    ov.runtime.host.passivate(Infinity);
    const samples: number[] = [];
    const stop = startCost();
    for (let i = 0; i < N; i++) {
      const s = performance.now();
      await jobs.submit(jobInput(i));
      samples.push(performance.now() - s);
    }
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
      `submit-serial ${mode} run ${r + 1}/${RUNS}: ${Math.round(run.perSec)}/s, p50 ${run.p50.toFixed(3)} ms, ` +
        `p99 ${run.p99.toFixed(3)} ms, ${run.cpuUs.toFixed(0)} µs CPU/submit (load ${load1()})`,
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
    bench: 'submit-serial',
    mode,
    submitsPerRun: N,
    runs: RUNS,
    perSec: round(perSec.median, 0),
    p50Ms: round(p50.median),
    p99Ms: round(p99.median),
    cpuUsPerSubmit: round(cpuUs.median, 1),
    gcUsPerSubmit: round(gcUs.median, 1),
    spread: { perSec, p50Ms: p50, p99Ms: p99, cpuUs, gcUs },
  });
} finally {
  await ov.close();
  dir.remove();
}
