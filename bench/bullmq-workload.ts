/**
 * W1 and W2 on BullMQ, the peer of bench/w1.ts and bench/w2.ts (driven by bench/peers-bullmq.ts): the same jobs
 * (bench/w1-workload.ts's priorities and titles; high/normal/low as BullMQ priorities 1/2/3), the same sizes, a
 * processor that returns at once and BullMQ's defaults otherwise (`removeOnComplete` included: completed jobs are
 * kept). Each phase uses a queue of its own; every job is checked to complete exactly once.
 */
import { FlowProducer, Queue, Worker, type ConnectionOptions, type FlowJob, type Job } from 'bullmq';
import { priorities } from './w1-workload.ts';
import { sleep } from './lib.ts';

/** How the consumers are made: `workers` Worker objects of `concurrency` each. */
export interface Consumers {
  workers: number;
  concurrency: number;
}

export const label = (c: Consumers): string => `${c.workers} × concurrency ${c.concurrency}`;

const BULL_PRIORITY = { high: 1, normal: 2, low: 3 } as const;

/** Every job a phase saw completed, and how often; failures and worker errors. */
class Ledger {
  readonly completes = new Map<string, number>();
  count = 0;
  failures: string[] = [];
  record(id: string): void {
    this.completes.set(id, (this.completes.get(id) ?? 0) + 1);
    this.count++;
  }
  /** Whether exactly `n` distinct jobs completed, each once, and nothing failed. */
  once(n: number): boolean {
    return this.count === n && this.completes.size === n && this.failures.length === 0;
  }
}

/** Workers of a phase, created stopped (`autorun: false`) and ready (connected) when this resolves. */
async function makeWorkers(
  queueName: string,
  connection: ConnectionOptions,
  consumers: Consumers,
  ledger: Ledger,
  onCompleted: (job: Job) => void = () => undefined,
): Promise<{ run(): void; close(): Promise<void> }> {
  const workers = Array.from(
    { length: consumers.workers },
    () =>
      new Worker(queueName, () => Promise.resolve(null), {
        connection,
        concurrency: consumers.concurrency,
        autorun: false,
      }),
  );
  const runs: Promise<unknown>[] = [];
  for (const w of workers) {
    w.on('completed', (job) => {
      ledger.record(job.id ?? '');
      onCompleted(job);
    });
    w.on('failed', (job, err) => ledger.failures.push(`${job?.id ?? '?'}: ${err.message}`));
    w.on('error', (err) => ledger.failures.push(err.message));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  return {
    run: () => {
      for (const w of workers) runs.push(w.run().catch((err: Error) => ledger.failures.push(err.message)));
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(runs);
    },
  };
}

/** Resolves when `done()` holds, polling every 2 ms; rejects after `ms` with what `state()` says. */
async function until(done: () => boolean, ms: number, state: () => string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`bullmq: timed out: ${state()}`);
    await sleep(2);
  }
}

/** Whether the queue holds `n` completed jobs and nothing else. */
async function onlyCompleted(queue: Queue, n: number): Promise<boolean> {
  const counts = await queue.getJobCounts();
  return Object.entries(counts).every(([state, c]) => (state === 'completed' ? c === n : c === 0));
}

/** W1's enqueue: `n` jobs with `addBulk`, `batch` per call, two calls in flight; answers jobs/s. */
async function enqueue(queue: Queue, n: number, seed: number, batch: number): Promise<number> {
  const prios = priorities(n, seed);
  const t0 = performance.now();
  let prev: Promise<unknown> = Promise.resolve();
  for (let done = 0; done < n; done += batch) {
    const count = Math.min(batch, n - done);
    const call = queue.addBulk(
      Array.from({ length: count }, (_, k) => {
        const i = done + k;
        return {
          name: 'w1',
          data: { title: `w1 job ${i}`, type: 'feature' },
          opts: { priority: BULL_PRIORITY[prios[i]!] },
        };
      }),
    );
    await prev;
    prev = call;
  }
  await prev;
  return (n / (performance.now() - t0)) * 1000;
}

/** W1's drain: `n` jobs enqueued first, then the consumers start; jobs/s from their start to the last complete. */
export async function drainW1(
  connection: ConnectionOptions,
  queueName: string,
  consumers: Consumers,
  n: number,
  seed: number,
  batch: number,
): Promise<{ enqueuePerSec: number; drainPerSec: number; exactlyOnce: boolean }> {
  const queue = new Queue(queueName, { connection });
  const ledger = new Ledger();
  try {
    const enqueuePerSec = await enqueue(queue, n, seed, batch);
    const workers = await makeWorkers(queueName, connection, consumers, ledger);
    const t0 = performance.now();
    workers.run();
    await until(
      () => ledger.count >= n || ledger.failures.length > 0,
      600_000,
      () => `${ledger.count}/${n}`,
    );
    const drainPerSec = (n / (performance.now() - t0)) * 1000;
    await workers.close();
    const exactlyOnce = ledger.once(n) && (await onlyCompleted(queue, n));
    if (ledger.failures.length > 0) throw new Error(`bullmq ${queueName}: ${ledger.failures[0]}`);
    return { enqueuePerSec, drainPerSec, exactlyOnce };
  } finally {
    await queue.close();
  }
}

/**
 * W1's steady rate: one `queue.add` every 1/rate s for `seconds` s (a timer loop that catches up, as in
 * bench/w1.ts) while the consumers run; per job, add-call start → the worker's `completed` (emitted once the
 * completion is written to Redis).
 */
export async function steadyW1(
  connection: ConnectionOptions,
  queueName: string,
  consumers: Consumers,
  rate: number,
  seconds: number,
  seed: number,
): Promise<{ samples: number[]; achievedRate: number; exactlyOnce: boolean }> {
  const total = Math.round(rate * seconds);
  const prios = priorities(total, seed);
  const started = new Float64Array(total);
  const samples: number[] = [];
  const queue = new Queue(queueName, { connection });
  const ledger = new Ledger();
  try {
    const workers = await makeWorkers(queueName, connection, consumers, ledger, (job) => {
      samples.push(performance.now() - started[(job.data as { seq: number }).seq]!);
    });
    workers.run();
    const adds: Promise<unknown>[] = [];
    const interval = 1_000 / rate;
    let submitted = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
        while (submitted < due) {
          const i = submitted++;
          started[i] = performance.now();
          adds.push(
            queue.add(
              'w1',
              { title: `w1 job ${i}`, type: 'feature', seq: i },
              { priority: BULL_PRIORITY[prios[i]!] },
            ),
          );
        }
        if (submitted >= total) resolve();
        else setTimeout(tick, 0);
      };
      tick();
    });
    const achievedRate = (total / (performance.now() - t0)) * 1000;
    await Promise.all(adds);
    await until(
      () => samples.length >= total || ledger.failures.length > 0,
      120_000,
      () => `${samples.length}/${total} completed`,
    );
    await workers.close();
    if (ledger.failures.length > 0) throw new Error(`bullmq ${queueName}: ${ledger.failures[0]}`);
    const exactlyOnce = ledger.once(total) && (await onlyCompleted(queue, total));
    return { samples, achievedRate, exactlyOnce };
  } finally {
    await queue.close();
  }
}

/**
 * W2 live on BullMQ flows: the consumers run while `parents` flows (a parent with `children` children each) arrive
 * through `FlowProducer.addBulk`, `liveBatch` flows per call, one call in flight, as fast as they are accepted;
 * parents completed/s from the first add to the last parent's `completed`. (BullMQ's idiom for fan-out: the
 * producer adds the whole tree and the parent runs once its children have; in bench/w2.ts a consumer submits the
 * children while handling the parent.)
 */
export async function flowsW2(
  connection: ConnectionOptions,
  queueName: string,
  consumers: Consumers,
  parents: number,
  children: number,
  liveBatch: number,
): Promise<{ parentsPerSec: number; jobsPerSec: number; exactlyOnce: boolean }> {
  const queue = new Queue(queueName, { connection });
  const flow = new FlowProducer({ connection });
  const ledger = new Ledger();
  let parentsDone = 0;
  try {
    const workers = await makeWorkers(queueName, connection, consumers, ledger, (job) => {
      if (job.name === 'parent') parentsDone++;
    });
    await flow.waitUntilReady();
    const tree = (p: number): FlowJob => ({
      name: 'parent',
      queueName,
      data: { title: `w2 parent ${p}`, type: 'feature' },
      children: Array.from({ length: children }, (_, c) => ({
        name: 'child',
        queueName,
        data: { title: `w2 parent ${p} child ${c}`, type: 'feature' },
      })),
    });
    const t0 = performance.now();
    workers.run();
    for (let done = 0; done < parents; done += liveBatch) {
      const n = Math.min(liveBatch, parents - done);
      await flow.addBulk(Array.from({ length: n }, (_, k) => tree(done + k)));
    }
    await until(
      () => parentsDone >= parents || ledger.failures.length > 0,
      600_000,
      () => `${parentsDone}/${parents} parents`,
    );
    const wallMs = performance.now() - t0;
    await workers.close();
    if (ledger.failures.length > 0) throw new Error(`bullmq ${queueName}: ${ledger.failures[0]}`);
    const total = parents * (1 + children);
    const exactlyOnce = ledger.once(total) && (await onlyCompleted(queue, total));
    return {
      parentsPerSec: (parents / wallMs) * 1000,
      jobsPerSec: (total / wallMs) * 1000,
      exactlyOnce,
    };
  } finally {
    await flow.close();
    await queue.close();
  }
}
