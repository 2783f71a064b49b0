/**
 * Time to ready with many non-final actors persisted: a setup child fills a data dir with `STARTUP_N` QUEUED jobs
 * and `STARTUP_WORKERS` registered workers (whose heartbeat timers must be loaded at start); then fresh child
 * processes each time `createOverseer` until it resolves. Reports the median of `STARTUP_OPENS` opens.
 */
import {
  benchArgs,
  dirBytes,
  fullGc,
  jobInput,
  memory,
  median,
  open,
  populate,
  progress,
  report,
  round,
  runChild,
  size,
  spread,
  tempDir,
  MiB,
} from './lib.ts';

const { mode, phase, dir } = benchArgs();
const JOBS = size('STARTUP_N', 100_000, 10_000);
const WORKERS = size('STARTUP_WORKERS', 1_000, 100);
const OPENS = size('STARTUP_OPENS', 3, 2);

if (phase === 'setup') {
  const ov = await open(dir!, mode);
  const fill = await populate(ov, { jobs: JOBS, workers: WORKERS });
  await ov.close();
  report({ ...fill, bytesOnDisk: dirBytes(dir!) });
} else if (phase === 'open') {
  const t0 = performance.now();
  const ov = await open(dir!, mode);
  const readyMs = performance.now() - t0;
  // performance.now() counts from process start: node, tsx and the imports of src/ are included.
  const sinceProcessStartMs = performance.now();
  const timers = ov.runtime.host.timers.size;
  const live = ov.runtime.host.liveCount;
  await fullGc();
  const mem = memory();
  const jobs = ov.workspace('bench').jobs;
  const page = await jobs.list({ limit: 10 });
  // The first change of the workspace after a restart loads its work state (queue index, ledger).
  const t1 = performance.now();
  await jobs.submit(jobInput(0));
  const firstSubmitMs = performance.now() - t1;
  await ov.close();
  report({ readyMs, sinceProcessStartMs, firstSubmitMs, timers, live, listed: page.jobs.length, mem });
} else {
  const data = tempDir();
  try {
    progress(`startup ${mode}: setup ${JOBS} jobs + ${WORKERS} workers`);
    const setup = (await runChild('startup', ['--phase', 'setup', '--dir', data.path, '--mode', mode])) as {
      jobsPerSec: number;
      bytesOnDisk: number;
    };
    const opens: {
      readyMs: number;
      sinceProcessStartMs: number;
      firstSubmitMs: number;
      timers: number;
      listed: number;
      mem: { heapUsed: number; rssAnon: number };
    }[] = [];
    for (let i = 0; i < OPENS; i++) {
      const o = (await runChild('startup', [
        '--phase',
        'open',
        '--dir',
        data.path,
        '--mode',
        mode,
      ])) as (typeof opens)[number];
      progress(
        `startup ${mode} open ${i + 1}/${OPENS}: ready in ${o.readyMs.toFixed(0)} ms (${o.timers} timers)`,
      );
      opens.push(o);
    }
    const ready = spread(opens.map((o) => o.readyMs));
    report({
      bench: 'startup',
      mode,
      jobs: JOBS,
      workers: WORKERS,
      opens: OPENS,
      readyMs: round(ready.median, 1),
      sinceProcessStartMs: round(median(opens.map((o) => o.sinceProcessStartMs)), 1),
      firstSubmitMs: round(median(opens.map((o) => o.firstSubmitMs)), 1),
      timersLoaded: opens[0]!.timers,
      listWorks: opens.every((o) => o.listed > 0),
      heapUsedMiB: round(median(opens.map((o) => o.mem.heapUsed)) / MiB, 1),
      rssAnonMiB: round(median(opens.map((o) => o.mem.rssAnon)) / MiB, 1),
      setupJobsPerSec: round(setup.jobsPerSec, 0),
      bytesOnDisk: setup.bytesOnDisk,
      spread: { readyMs: ready },
    });
  } finally {
    data.remove();
  }
}
