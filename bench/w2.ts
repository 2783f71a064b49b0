/**
 * W2, fan-out: `W2_PARENTS` parents (default 1,000) × `W2_CHILDREN` children (default 4), `W2_CONSUMERS` consumers
 * (default 16, each a registered worker). A consumer claims a job; a parent submits its children in one
 * `submitMany` (with `parentJobId`) and then completes its own part (`complete` with claimNext); a child is
 * completed (claimNext). A parent is COMPLETED once its children are (seen on `ov.events`). Consumers long-poll
 * (`claim({ waitMs: 250 })`) when the queue is momentarily empty. Reports parents completed/s:
 *
 * - (a) `enqueuedFirst`: every parent enqueued first (one submitMany per 1,000), then the consumers start; timed
 *   from their start to the last parent COMPLETED.
 * - (b) `live`: the consumers run while the parents arrive, `W2_LIVE_BATCH` (default 10) per submitMany, one call
 *   in flight, as fast as they are accepted; timed from the first submit to the last parent COMPLETED.
 *
 * Each of `RUNS` runs (default 3) uses a fresh runtime in a fresh data dir (warmed up first) and checks that every
 * job ends COMPLETED exactly once (queue.stats()). Reports the medians.
 */
import type { Job, Overseer, WorkspaceClient } from '../src/index.ts';
import {
  benchArgs,
  load1,
  median,
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
const PARENTS = size('W2_PARENTS', 1_000, 200);
const CHILDREN = size('W2_CHILDREN', 4, 4);
const CONSUMERS = size('W2_CONSUMERS', 16, 16);
const LIVE_BATCH = size('W2_LIVE_BATCH', 10, 10);
const RUNS = size('RUNS', 3, 1);
const WARMUP = size('W2_WARMUP', 100, 20);

/** Counts COMPLETED journal records of the parents of a phase; resolves when all are in. */
function watchParents(ov: Overseer): {
  expect(ids: Iterable<string>): void;
  done(n: number): Promise<void>;
  stop(): void;
  completes: Map<string, number>;
} {
  const parents = new Set<string>();
  const completes = new Map<string, number>();
  let completed = 0;
  let waiter: { n: number; resolve: () => void } | null = null;
  const early = new Set<string>();
  const unsubscribe = ov.events.subscribe((record) => {
    if (record.kind !== 'job' || record.to !== 'COMPLETED') return;
    completes.set(record.id, (completes.get(record.id) ?? 0) + 1);
    if (parents.has(record.id)) completed++;
    else early.add(record.id);
    if (waiter && completed >= waiter.n) waiter.resolve();
  });
  return {
    completes,
    expect(ids) {
      for (const id of ids) {
        parents.add(id);
        if (early.delete(id)) completed++;
      }
      if (waiter && completed >= waiter.n) waiter.resolve();
    },
    done: (n) =>
      completed >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { n, resolve })),
    stop: unsubscribe,
  };
}

/** One consumer: claim (long-poll), fan a parent out, complete with claimNext, until `stopped()`. */
async function consumer(ws: WorkspaceClient, workerId: string, stopped: () => boolean): Promise<number> {
  let handled = 0;
  while (!stopped()) {
    let answer = await ws.queue.claim({ workerId, waitMs: 250 });
    while (answer.job && answer.lease) {
      const job: Job = answer.job;
      if (job.parentJobId === null) {
        await ws.jobs.submitMany(
          Array.from({ length: CHILDREN }, (_, i) => ({
            title: `${job.title} child ${i}`,
            type: 'feature' as const,
            parentJobId: job.id,
          })),
        );
      }
      const done = await ws.queue.complete({
        jobId: job.id,
        leaseToken: answer.lease.token,
        claimNext: true,
      });
      handled++;
      answer = done.next ?? { job: null };
    }
  }
  return handled;
}

const parentInputs = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ title: `w2 parent ${from + i}`, type: 'feature' as const }));

interface Phase {
  parentsPerSec: number;
  jobsPerSec: number;
  cpuUsPerParent: number;
}

/** Runs one phase on fresh workers; `live` submits parents while consuming. */
async function phase(ov: Overseer, parents: number, live: boolean, tag: string): Promise<Phase> {
  const ws = ov.workspace('bench');
  const workers = await Promise.all(
    Array.from({ length: CONSUMERS }, (_, i) => ws.workers.register({ name: `w2-${tag}-${i}` })),
  );
  const watch = watchParents(ov);
  let stop = false;
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    let consumers: Promise<unknown> = Promise.resolve();
    // A consumer that throws ends the phase instead of leaving it waiting for parents forever.
    let failed: Promise<never> = new Promise<never>(() => undefined);
    const start = (): void => {
      consumers = Promise.all(workers.map((w) => consumer(ws, w.id, () => stop)));
      failed = consumers.then(() => Promise.reject(new Error('w2: the consumers stopped early')));
      failed.catch(() => undefined); // once the phase is over, stopping is expected
    };
    let t0: number;
    let stopCost: () => Promise<{ cpuMs: number; wallMs: number }>;
    if (!live) {
      for (let done = 0; done < parents; done += 1_000) {
        const jobs = await ws.jobs.submitMany(parentInputs(done, Math.min(1_000, parents - done)));
        watch.expect(jobs.map((j) => j.id));
      }
      await ov.runtime.host.pipeline.idle();
      stopCost = startCost();
      t0 = performance.now();
      start();
    } else {
      stopCost = startCost();
      t0 = performance.now();
      start();
      for (let done = 0; done < parents; done += LIVE_BATCH) {
        const jobs = await ws.jobs.submitMany(parentInputs(done, Math.min(LIVE_BATCH, parents - done)));
        watch.expect(jobs.map((j) => j.id));
      }
    }
    await Promise.race([watch.done(parents), failed]);
    const wallMs = performance.now() - t0;
    const cost = await stopCost();
    stop = true;
    await consumers;
    return {
      parentsPerSec: (parents / wallMs) * 1000,
      jobsPerSec: ((parents * (1 + CHILDREN)) / wallMs) * 1000,
      cpuUsPerParent: (cost.cpuMs * 1000) / parents,
    };
  } finally {
    clearInterval(keepAlive);
    watch.stop();
  }
}

interface Run {
  enqueuedFirst: Phase;
  live: Phase;
  exactlyOnce: boolean;
  load: number;
}

async function run(r: number): Promise<Run> {
  const dir = tempDir();
  const ov = await open(dir.path, mode);
  try {
    const ws = ov.workspace('bench');
    const all = watchParents(ov);
    await phase(ov, WARMUP, false, 'warmup');
    ov.runtime.host.passivate(Infinity);
    const enqueuedFirst = await phase(ov, PARENTS, false, 'first');
    progress(
      `w2 ${mode} run ${r + 1}/${RUNS}: enqueued first: ${Math.round(enqueuedFirst.parentsPerSec)} parents/s ` +
        `(${Math.round(enqueuedFirst.jobsPerSec)} jobs/s, ${Math.round(enqueuedFirst.cpuUsPerParent)} µs CPU/parent, load ${load1()})`,
    );
    ov.runtime.host.passivate(Infinity);
    const live = await phase(ov, PARENTS, true, 'live');
    progress(
      `w2 ${mode} run ${r + 1}/${RUNS}: live: ${Math.round(live.parentsPerSec)} parents/s ` +
        `(${Math.round(live.jobsPerSec)} jobs/s, ${Math.round(live.cpuUsPerParent)} µs CPU/parent, load ${load1()})`,
    );
    const stats = await ws.queue.stats();
    all.stop();
    const total = (WARMUP + 2 * PARENTS) * (1 + CHILDREN);
    const depth = Object.values(stats.depth).reduce((a, b) => a + b, 0);
    const others = Object.entries(stats.jobs).filter(([k, v]) => k !== 'COMPLETED' && v > 0);
    const once = [...all.completes.values()].every((c) => c === 1);
    const exactlyOnce =
      stats.jobs['COMPLETED'] === total &&
      others.length === 0 &&
      depth === 0 &&
      all.completes.size === total &&
      once;
    if (!exactlyOnce)
      progress(
        `w2 ${mode}: CHECK FAILED: expected ${total}, stats ${JSON.stringify(stats)}, ` +
          `${all.completes.size} jobs seen COMPLETED, each once: ${once}`,
      );
    return { enqueuedFirst, live, exactlyOnce, load: load1() };
  } finally {
    await ov.close();
    dir.remove();
  }
}

const runs: Run[] = [];
for (let r = 0; r < RUNS; r++) runs.push(await run(r));

const first = spread(runs.map((r) => r.enqueuedFirst.parentsPerSec));
const live = spread(runs.map((r) => r.live.parentsPerSec));
const exactlyOnce = runs.every((r) => r.exactlyOnce);
const targets =
  mode === 'flush'
    ? [
        {
          metric: 'parents completed/s, enqueued first',
          value: round(first.median, 0),
          target: '≥ 1,100/s',
          met: first.median >= 1_100,
        },
        {
          metric: 'parents completed/s, live',
          value: round(live.median, 0),
          target: '≥ 770/s',
          met: live.median >= 770,
        },
      ]
    : [];

report({
  bench: 'w2',
  mode,
  parents: PARENTS,
  children: CHILDREN,
  consumers: CONSUMERS,
  liveBatch: LIVE_BATCH,
  runs: RUNS,
  enqueuedFirst: {
    parentsPerSec: round(first.median, 0),
    jobsPerSec: round(median(runs.map((r) => r.enqueuedFirst.jobsPerSec)), 0),
    cpuUsPerParent: round(median(runs.map((r) => r.enqueuedFirst.cpuUsPerParent)), 0),
  },
  live: {
    parentsPerSec: round(live.median, 0),
    jobsPerSec: round(median(runs.map((r) => r.live.jobsPerSec)), 0),
    cpuUsPerParent: round(median(runs.map((r) => r.live.cpuUsPerParent)), 0),
  },
  exactlyOnce,
  load: runs.map((r) => r.load),
  targets: [
    ...targets,
    { metric: 'every job COMPLETED exactly once', value: exactlyOnce, target: 'yes', met: exactlyOnce },
  ],
  spread: { enqueuedFirst: first, live },
});
if (!exactlyOnce) process.exitCode = 1;
