/**
 * Memory with a million persisted actors: a setup child submits `MILLION_N` jobs (submitMany in batches of
 * 1,000, passivating after each durable batch so the setup process stays bounded); then a fresh child opens the
 * runtime, collects garbage and reads heapUsed and /proc/self/status (RssAnon: the process's own memory; RssFile:
 * LMDB's memory-mapped pages, i.e. page cache). It then checks that `jobs.list({ limit: 50 })` and `jobs.get`
 * work, and reads memory again; then times the first `jobs.submit` (the first change of the workspace loads its
 * work state, e.g. the queue index of every ready job) and reads memory once more. `mdbRss` is the part of RssFile that is LMDB's map (the rest is node's own binary).
 */
import {
  benchArgs,
  dirBytes,
  fullGc,
  jobInput,
  memory,
  open,
  populate,
  progress,
  report,
  round,
  runChild,
  size,
  tempDir,
  MiB,
  type MemoryReading,
} from './lib.ts';

const { mode, phase, dir } = benchArgs();
const JOBS = size('MILLION_N', 1_000_000, 20_000);
const WORKERS = size('MILLION_WORKERS', 100, 10);

interface OpenResult {
  readyMs: number;
  afterOpen: MemoryReading;
  listMs: number;
  listed: number;
  getMs: number;
  got: boolean;
  afterReads: MemoryReading;
  firstSubmitMs: number;
  afterFirstSubmit: MemoryReading;
  live: number;
}

if (phase === 'setup') {
  const ov = await open(dir!, mode);
  const fill = await populate(ov, { jobs: JOBS, workers: WORKERS });
  await fullGc();
  const mem = memory();
  await ov.close();
  report({ ...fill, setupHeapUsed: mem.heapUsed, setupRssAnon: mem.rssAnon, bytesOnDisk: dirBytes(dir!) });
} else if (phase === 'open') {
  const t0 = performance.now();
  const ov = await open(dir!, mode);
  const readyMs = performance.now() - t0;
  await fullGc();
  const afterOpen = memory();
  const jobs = ov.workspace('bench').jobs;
  let t = performance.now();
  const page = await jobs.list({ limit: 50 });
  const listMs = performance.now() - t;
  const last = page.jobs[page.jobs.length - 1];
  t = performance.now();
  const got = last ? await jobs.get(last.id) : undefined;
  const getMs = performance.now() - t;
  await fullGc();
  const afterReads = memory();
  // The first command that changes the workspace loads its work state (the queue index of every ready job).
  t = performance.now();
  await jobs.submit(jobInput(0));
  const firstSubmitMs = performance.now() - t;
  await fullGc();
  const afterFirstSubmit = memory();
  const live = ov.runtime.host.liveCount;
  await ov.close();
  report({
    readyMs,
    afterOpen,
    listMs,
    listed: page.jobs.length,
    getMs,
    got: got?.id === last?.id && got?.status === 'QUEUED',
    afterReads,
    firstSubmitMs,
    afterFirstSubmit,
    live,
  } satisfies OpenResult);
} else {
  const data = tempDir();
  try {
    progress(`million ${mode}: setup ${JOBS} jobs + ${WORKERS} workers (this takes a while)`);
    const setup = (await runChild('million', ['--phase', 'setup', '--dir', data.path, '--mode', mode])) as {
      jobsPerSec: number;
      seconds: number;
      setupHeapUsed: number;
      setupRssAnon: number;
      bytesOnDisk: number;
    };
    progress(
      `million ${mode}: setup done in ${setup.seconds.toFixed(0)} s (${Math.round(setup.jobsPerSec)} jobs/s)`,
    );
    const o = (await runChild('million', [
      '--phase',
      'open',
      '--dir',
      data.path,
      '--mode',
      mode,
    ])) as OpenResult;
    const mib = (n: number) => round(n / MiB, 1);
    report({
      bench: 'million',
      mode,
      jobs: JOBS,
      workers: WORKERS,
      readyMs: round(o.readyMs, 1),
      heapUsedMiB: mib(o.afterOpen.heapUsed),
      rssAnonMiB: mib(o.afterOpen.rssAnon),
      rssFileMiB: mib(o.afterOpen.rssFile),
      mdbRssMiB: mib(o.afterOpen.mdbRss),
      heapPlusRssAnonMiB: mib(o.afterOpen.heapUsed + o.afterOpen.rssAnon),
      afterReads: {
        heapUsedMiB: mib(o.afterReads.heapUsed),
        rssAnonMiB: mib(o.afterReads.rssAnon),
        rssFileMiB: mib(o.afterReads.rssFile),
        mdbRssMiB: mib(o.afterReads.mdbRss),
      },
      firstSubmitMs: round(o.firstSubmitMs, 1),
      afterFirstSubmit: {
        heapUsedMiB: mib(o.afterFirstSubmit.heapUsed),
        rssAnonMiB: mib(o.afterFirstSubmit.rssAnon),
        heapPlusRssAnonMiB: mib(o.afterFirstSubmit.heapUsed + o.afterFirstSubmit.rssAnon),
      },
      listOk: o.listed === 50,
      listMs: round(o.listMs, 2),
      getOk: o.got,
      getMs: round(o.getMs, 2),
      liveAfterReads: o.live,
      setup: {
        seconds: round(setup.seconds, 1),
        jobsPerSec: round(setup.jobsPerSec, 0),
        heapUsedMiB: mib(setup.setupHeapUsed),
        rssAnonMiB: mib(setup.setupRssAnon),
      },
      bytesOnDisk: setup.bytesOnDisk,
    });
  } finally {
    data.remove();
  }
}
