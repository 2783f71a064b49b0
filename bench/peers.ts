/**
 * The peer benchmark (issue 22): our W1 and W2 beside BullMQ on Redis, in alternating rounds of one invocation, so
 * every throughput target is a ratio of two figures measured moments apart on the same machine. `npm run bench --
 * peers` runs it once (it sets its own durability modes); `npm test` never does.
 *
 * Each of `PEERS_ROUNDS` rounds (default 3; 1 under `BENCH_QUICK=1`) runs, each step in a child process of its own:
 *
 * 1. ours, mode 'flush': bench/w1.ts (drain with 8 and 64 consumers) and bench/w2.ts (W2 live), one run each;
 * 2. BullMQ, Redis `appendfsync always`: bench/peers-bullmq.ts, W1 drain with 8 and 64 consumers, W2 live on flows;
 * 3. ours, mode 'commit': bench/w1.ts (drain);
 * 4. BullMQ, `appendfsync everysec`: W1 drain with 8 consumers;
 * 5. the latency pair, at a steady rate R of half the BullMQ `always` drain with 8 consumers of this round: ours
 *    (bench/w1.ts in mode 'flush', R jobs/s for `W1_SECONDS` s after a `PEERS_LATENCY_N`-job drain), then BullMQ
 *    `always` (8 consumers shaped as its faster drain of step 2).
 *
 * Sizes are bench/w1.ts's and bench/w2.ts's for both sides (the same `BENCH_*` overrides; `QUICK_SIZES` below
 * under `BENCH_QUICK=1`). Every BullMQ step starts a redis-server of its own (bench/redis-server.ts: a free port, an
 * append-only file in `os.tmpdir()` like our data dirs, RDB off) and stops it. Reports each ratio ours ÷ BullMQ
 * (for latency, our p99 ÷ BullMQ's p99) as the median of the rounds with min–max, the absolute figures, and the
 * Redis, BullMQ and ioredis versions.
 */
import { redisBinary, redisServerVersion } from './redis-server.ts';
import { QUICK, progress, report, round, runChild, size, spread, type Spread } from './lib.ts';

const ROUNDS = size('PEERS_ROUNDS', 3, 1);
const LATENCY_N = size('PEERS_LATENCY_N', 1_000, 500);

type Result = Record<string, unknown>;

const redisVersion = redisServerVersion();
if (redisVersion === null) {
  progress(
    `peers: cannot run '${redisBinary()} --version': the peer benchmark needs redis-server ` +
      `(Debian: apt-get install redis-server; or set BENCH_REDIS_SERVER=/path/to/redis-server)`,
  );
  process.exit(1);
}

/** Under `BENCH_QUICK=1`, smaller sizes again for both sides (a smoke run near a minute), unless set by hand. */
const QUICK_SIZES: Record<string, number> = QUICK
  ? { W1_N: 1_000, W1_WARMUP: 200, W2_PARENTS: 100, W2_WARMUP: 10 }
  : {};

/** Runs bench/<name>.ts in a child process with `env` added to ours (`BENCH_` prefixed) for that child only. */
async function step(name: string, args: string[], env: Record<string, number>): Promise<Result> {
  const saved = new Map<string, string | undefined>();
  const quick = Object.entries(QUICK_SIZES).filter(([k]) => process.env[`BENCH_${k}`] === undefined);
  for (const [k, v] of Object.entries({ ...Object.fromEntries(quick), ...env })) {
    saved.set(`BENCH_${k}`, process.env[`BENCH_${k}`]);
    process.env[`BENCH_${k}`] = String(v);
  }
  try {
    return (await runChild(name, args)) as Result;
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Our W1 drains only: one run, no latency phases. */
const ONE_DRAIN = { RUNS: 1, W1_SECONDS: 0, W1_LOW_RATE: 0 };

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const at = (r: Result, ...path: string[]): unknown =>
  path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r);

interface Round {
  ours: { flush: Result; w2: Result; commit: Result; latency: Result };
  bull: { always: Result; everysec: Result; latency: Result };
  rate: number;
}

const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const tag = `peers round ${r + 1}/${ROUNDS}`;
  progress(`${tag}: ours, mode 'flush' (W1 drain, W2)`);
  const flush = await step('w1', ['--mode', 'flush'], ONE_DRAIN);
  const w2 = await step('w2', ['--mode', 'flush'], { RUNS: 1 });
  progress(`${tag}: BullMQ, appendfsync always (W1 drain, W2 flows)`);
  const always = await step('peers-bullmq', ['--fsync', 'always', '--parts', 'drain8,drain64,w2'], {});
  progress(`${tag}: ours, mode 'commit' (W1 drain)`);
  const commit = await step('w1', ['--mode', 'commit'], ONE_DRAIN);
  progress(`${tag}: BullMQ, appendfsync everysec (W1 drain)`);
  const everysec = await step('peers-bullmq', ['--fsync', 'everysec', '--parts', 'drain8'], {});

  const rate = Math.max(1, Math.round(num(at(always, 'drain', '8', 'perSec')) / 2));
  const shape = String(at(always, 'drain', '8', 'shape')).startsWith('1 ×') ? '1x8' : '8x1';
  progress(`${tag}: latency at ${rate} jobs/s (half BullMQ always's drain with 8 consumers): ours 'flush'`);
  const latency = await step('w1', ['--mode', 'flush'], {
    RUNS: 1,
    W1_N: LATENCY_N,
    W1_RATE: rate,
    W1_LOW_RATE: 0,
  });
  progress(`${tag}: latency at ${rate} jobs/s: BullMQ always`);
  const bullLatency = await step(
    'peers-bullmq',
    ['--fsync', 'always', '--parts', 'latency', '--rate', String(rate), '--latency-consumers', shape],
    {},
  );
  rounds.push({
    ours: { flush, w2, commit, latency },
    bull: { always, everysec, latency: bullLatency },
    rate,
  });
}

/** The figure `pick` of each round, as a spread. */
const over = (pick: (r: Round) => number): Spread => spread(rounds.map(pick));

const figures = {
  oursDrain8Flush: over((r) => num(at(r.ours.flush, 'drainPerSec', '8'))),
  bullDrain8Always: over((r) => num(at(r.bull.always, 'drain', '8', 'perSec'))),
  oursDrain8Commit: over((r) => num(at(r.ours.commit, 'drainPerSec', '8'))),
  bullDrain8Everysec: over((r) => num(at(r.bull.everysec, 'drain', '8', 'perSec'))),
  oursDrain64Flush: over((r) => num(at(r.ours.flush, 'drainPerSec', '64'))),
  bullDrain64Always: over((r) => num(at(r.bull.always, 'drain', '64', 'perSec'))),
  oursW2LiveFlush: over((r) => num(at(r.ours.w2, 'live', 'parentsPerSec'))),
  bullW2LiveAlways: over((r) => num(at(r.bull.always, 'w2', 'perSec'))),
  rate: over((r) => r.rate),
  oursP99Flush: over((r) => num(at(r.ours.latency, 'latency', 'p99Ms'))),
  bullP99Always: over((r) => num(at(r.bull.latency, 'latency', 'p99Ms'))),
  oursP50Flush: over((r) => num(at(r.ours.latency, 'latency', 'p50Ms'))),
  bullP50Always: over((r) => num(at(r.bull.latency, 'latency', 'p50Ms'))),
};

/** Each round's ours ÷ BullMQ, then their spread. */
const ratio = (ours: (r: Round) => unknown, bull: (r: Round) => unknown): Spread =>
  over((r) => num(ours(r)) / num(bull(r)));

const ratios = {
  drain8Flush: ratio(
    (r) => at(r.ours.flush, 'drainPerSec', '8'),
    (r) => at(r.bull.always, 'drain', '8', 'perSec'),
  ),
  drain8Commit: ratio(
    (r) => at(r.ours.commit, 'drainPerSec', '8'),
    (r) => at(r.bull.everysec, 'drain', '8', 'perSec'),
  ),
  drain64Flush: ratio(
    (r) => at(r.ours.flush, 'drainPerSec', '64'),
    (r) => at(r.bull.always, 'drain', '64', 'perSec'),
  ),
  w2LiveFlush: ratio(
    (r) => at(r.ours.w2, 'live', 'parentsPerSec'),
    (r) => at(r.bull.always, 'w2', 'perSec'),
  ),
  p99Flush: ratio(
    (r) => at(r.ours.latency, 'latency', 'p99Ms'),
    (r) => at(r.bull.latency, 'latency', 'p99Ms'),
  ),
};

const exactlyOnce = rounds.every(
  (r) =>
    [r.ours.flush, r.ours.w2, r.ours.commit, r.ours.latency].every((x) => x.exactlyOnce === true) &&
    [r.bull.always, r.bull.everysec, r.bull.latency].every((x) => x.exactlyOnce === true),
);
const versions = at(rounds[0]?.bull.always ?? {}, 'versions') as Record<string, string> | undefined;
const range = (s: Spread): string => `${round(s.min, 2)}–${round(s.max, 2)}`;

const TARGETS = [
  { key: 'drain8Flush', metric: "W1 drain, 8 consumers: 'flush' ÷ BullMQ always", floor: 1.5, goal: 2 },
  { key: 'drain8Commit', metric: "W1 drain, 8 consumers: 'commit' ÷ BullMQ everysec", floor: 1, goal: 2 },
  { key: 'drain64Flush', metric: "W1 drain, 64 consumers: 'flush' ÷ BullMQ always", floor: 1.5, goal: 2 },
  { key: 'w2LiveFlush', metric: "W2 live, parents/s: 'flush' ÷ BullMQ flows always", floor: 1.5, goal: 2 },
] as const;

const s = (v: Spread, unit: string) => ({ value: v.median, unit, range: range(v) });
report({
  bench: 'peers',
  rounds: ROUNDS,
  versions: { ...versions, redisServer: redisVersion },
  rate: figures.rate.median,
  ratios,
  figures,
  exactlyOnce,
  // Rows for bench/run.ts's table: the absolute figures (median over the rounds, min–max), then the ratios.
  rows: [
    {
      metric: 'versions',
      value: `Redis ${versions?.redis}, BullMQ ${versions?.bullmq}, ioredis ${versions?.ioredis}`,
      unit: '',
    },
    { metric: "ours W1 drain, 8 consumers, 'flush'", ...s(figures.oursDrain8Flush, 'jobs/s') },
    { metric: 'BullMQ W1 drain, 8 consumers, always', ...s(figures.bullDrain8Always, 'jobs/s') },
    { metric: "ours W1 drain, 8 consumers, 'commit'", ...s(figures.oursDrain8Commit, 'jobs/s') },
    { metric: 'BullMQ W1 drain, 8 consumers, everysec', ...s(figures.bullDrain8Everysec, 'jobs/s') },
    { metric: "ours W1 drain, 64 consumers, 'flush'", ...s(figures.oursDrain64Flush, 'jobs/s') },
    { metric: 'BullMQ W1 drain, 64 consumers, always', ...s(figures.bullDrain64Always, 'jobs/s') },
    { metric: "ours W2 live, 'flush'", ...s(figures.oursW2LiveFlush, 'parents/s') },
    { metric: 'BullMQ W2 live flows, always', ...s(figures.bullW2LiveAlways, 'parents/s') },
    { metric: 'steady rate R (half BullMQ always drain, 8)', ...s(figures.rate, 'jobs/s') },
    { metric: "ours at R, 'flush': p50", ...s(figures.oursP50Flush, 'ms') },
    { metric: "ours at R, 'flush': p99", ...s(figures.oursP99Flush, 'ms') },
    { metric: 'BullMQ at R, always: p50', ...s(figures.bullP50Always, 'ms') },
    { metric: 'BullMQ at R, always: p99', ...s(figures.bullP99Always, 'ms') },
  ],
  targets: [
    ...TARGETS.map((t) => ({
      metric: `${t.metric} (${range(ratios[t.key])})`,
      value: round(ratios[t.key].median, 2),
      target: `≥ ${t.floor} (goal ≥ ${t.goal})`,
      met: ratios[t.key].median >= t.floor,
    })),
    {
      metric: `W1 at R: p99 'flush' ÷ BullMQ always p99 (${range(ratios.p99Flush)})`,
      value: round(ratios.p99Flush.median, 2),
      target: '≤ 1.0 (goal ≤ 0.5)',
      met: ratios.p99Flush.median <= 1,
    },
    {
      metric: 'every job COMPLETED exactly once, both sides',
      value: exactlyOnce,
      target: 'yes',
      met: exactlyOnce,
    },
  ],
});
if (!exactlyOnce) process.exitCode = 1;
