/**
 * One BullMQ step of the peer benchmark (bench/peers.ts runs it in a child process): starts a redis-server of its
 * own (bench/redis-server.ts) with `--fsync always|everysec`, warms up (a small W1 drain), runs the `--parts` asked
 * for on fresh queues, stops Redis and reports the figures.
 *
 * - `drain8`, `drain64`: W1's drain (bench/bullmq-workload.ts) with C = 8 or 64 consumers, as C Workers of
 *   concurrency 1 and, separately, 1 Worker of concurrency C, each on `W1_N` fresh jobs; the faster counts.
 * - `w2`: W2 live on flows, `W2_PARENTS` × `W2_CHILDREN`, with 16 Workers of concurrency 1 and, separately, 1
 *   Worker of concurrency 16; the faster counts.
 * - `latency`: W1 at a steady `--rate` jobs/s for `W1_SECONDS` s with 8 consumers made as `--latency-consumers`
 *   (`8x1` or `1x8`); p50/p99/max of add → completed.
 *
 * Sizes are bench/w1.ts's and bench/w2.ts's (same `BENCH_*` overrides, same `BENCH_QUICK=1` sizes).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { drainW1, flowsW2, label, steadyW1, type Consumers } from './bullmq-workload.ts';
import { startRedisServer, type AppendFsync } from './redis-server.ts';
import { latency, load1, progress, report, round, size } from './lib.ts';

const N = size('W1_N', 20_000, 2_000);
const BATCH = size('W1_BATCH', 1_000, 500);
const WARMUP = size('W1_WARMUP', 2_000, 500);
const SECONDS = size('W1_SECONDS', 10, 2);
const PARENTS = size('W2_PARENTS', 1_000, 200);
const CHILDREN = size('W2_CHILDREN', 4, 4);
const W2_CONSUMERS = size('W2_CONSUMERS', 16, 16);
const LIVE_BATCH = size('W2_LIVE_BATCH', 10, 10);
const LATENCY_CONSUMERS = 8;

const { values } = parseArgs({
  options: {
    fsync: { type: 'string', default: 'always' },
    parts: { type: 'string', default: 'drain8,drain64,w2' },
    rate: { type: 'string', default: '0' },
    'latency-consumers': { type: 'string', default: '8x1' },
  },
  strict: false,
});
const fsync: AppendFsync = values.fsync === 'everysec' ? 'everysec' : 'always';
const parts = new Set(String(values.parts).split(','));
const rate = Number(values.rate);

/** `C Workers × concurrency 1` and `1 Worker × concurrency C`. */
const shapes = (c: number): Consumers[] => [
  { workers: c, concurrency: 1 },
  { workers: 1, concurrency: c },
];

const packageVersion = (name: string): string =>
  (
    JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

/** The faster of several consumer shapes; each figure is kept. */
interface Best {
  perSec: number;
  shape: string;
  shapes: Record<string, number>;
}

const redis = await startRedisServer(fsync);
try {
  const connection = { host: '127.0.0.1', port: redis.port };
  const client = new Redis(connection);
  const info = await client.info('server');
  const appendfsync = await client.config('GET', 'appendfsync');
  await client.quit();
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  if (appendfsync[1] !== fsync)
    throw new Error(`redis-server runs appendfsync ${appendfsync[1]}, not ${fsync}`);

  let exactlyOnce = (await drainW1(connection, 'warmup', shapes(8)[0]!, WARMUP, 7, BATCH)).exactlyOnce;
  const enqueueRates: number[] = [];
  const drain: Record<number, Best> = {};
  for (const c of [8, 64]) {
    if (!parts.has(`drain${c}`)) continue;
    const best: Best = { perSec: 0, shape: '', shapes: {} };
    for (const shape of shapes(c)) {
      const r = await drainW1(
        connection,
        `w1-drain-${shape.workers}x${shape.concurrency}`,
        shape,
        N,
        42 + c,
        BATCH,
      );
      exactlyOnce &&= r.exactlyOnce;
      enqueueRates.push(r.enqueuePerSec);
      best.shapes[label(shape)] = round(r.drainPerSec, 0);
      if (r.drainPerSec > best.perSec)
        Object.assign(best, { perSec: round(r.drainPerSec, 0), shape: label(shape) });
      progress(
        `bullmq ${fsync}: addBulk ${Math.round(r.enqueuePerSec)} jobs/s, drain with ${label(shape)} ` +
          `${Math.round(r.drainPerSec)} jobs/s (load ${load1()})`,
      );
    }
    drain[c] = best;
  }

  let w2: Best | null = null;
  if (parts.has('w2')) {
    await flowsW2(
      connection,
      'w2-warmup',
      shapes(W2_CONSUMERS)[0]!,
      Math.max(1, PARENTS / 10),
      CHILDREN,
      LIVE_BATCH,
    );
    w2 = { perSec: 0, shape: '', shapes: {} };
    for (const shape of shapes(W2_CONSUMERS)) {
      const r = await flowsW2(
        connection,
        `w2-live-${shape.workers}x${shape.concurrency}`,
        shape,
        PARENTS,
        CHILDREN,
        LIVE_BATCH,
      );
      exactlyOnce &&= r.exactlyOnce;
      w2.shapes[label(shape)] = round(r.parentsPerSec, 0);
      if (r.parentsPerSec > w2.perSec)
        Object.assign(w2, { perSec: round(r.parentsPerSec, 0), shape: label(shape) });
      progress(
        `bullmq ${fsync}: W2 live flows with ${label(shape)}: ${Math.round(r.parentsPerSec)} parents/s ` +
          `(${Math.round(r.jobsPerSec)} jobs/s, load ${load1()})`,
      );
    }
  }

  let steady: {
    rate: number;
    achievedRate: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    shape: string;
  } | null = null;
  if (parts.has('latency')) {
    const [workers, concurrency] = String(values['latency-consumers']).split('x').map(Number);
    const shape: Consumers = { workers: workers ?? LATENCY_CONSUMERS, concurrency: concurrency ?? 1 };
    if (shape.workers * shape.concurrency !== LATENCY_CONSUMERS)
      throw new Error('latency: 8 consumers expected');
    const s = await steadyW1(connection, 'w1-latency', shape, rate, SECONDS, 99);
    exactlyOnce &&= s.exactlyOnce;
    const l = latency(s.samples);
    steady = {
      rate,
      achievedRate: round(s.achievedRate, 0),
      p50Ms: round(l.p50, 2),
      p99Ms: round(l.p99, 2),
      maxMs: round(l.max, 2),
      shape: label(shape),
    };
    progress(
      `bullmq ${fsync}: ${rate} jobs/s for ${SECONDS} s with ${label(shape)} (achieved ${steady.achievedRate}/s): ` +
        `p50 ${steady.p50Ms} ms, p99 ${steady.p99Ms} ms, max ${steady.maxMs} ms (load ${load1()})`,
    );
  }

  if (!exactlyOnce) progress(`bullmq ${fsync}: CHECK FAILED: a job did not complete exactly once`);
  report({
    bench: 'peers-bullmq',
    fsync,
    versions: { redis: redisVersion, bullmq: packageVersion('bullmq'), ioredis: packageVersion('ioredis') },
    jobs: N,
    batch: BATCH,
    enqueuePerSec: enqueueRates.length > 0 ? round(Math.max(...enqueueRates), 0) : null,
    drain,
    w2: w2 && { parents: PARENTS, children: CHILDREN, consumers: W2_CONSUMERS, liveBatch: LIVE_BATCH, ...w2 },
    latency: steady,
    exactlyOnce,
    load: load1(),
  });
  if (!exactlyOnce) process.exitCode = 1;
} finally {
  await redis.stop();
}
