/**
 * `npm run bench [-- filter...]`: runs each benchmark in its own child process (`node --expose-gc --import tsx
 * bench/<name>.ts --mode <mode>`) in both durability modes, prints a table per mode and then one JSON object with
 * every figure (also written to `.bench/results.json`). Before and after the benchmarks it runs bench/calibrate.ts,
 * the machine's own speed without Overseer, printed in the headline and kept under `machine.calibration`.
 *
 * `peers` (bench/peers.ts, issue 22) runs once, not per mode: our W1/W2 beside BullMQ on a redis-server of its own, in
 * alternating rounds, both durability modes inside; its table is headed by its name.
 *
 * `BENCH_QUICK=1` runs small sizes (a smoke run); `BENCH_MODES=flush` restricts the modes; a filter argument keeps
 * the benchmarks whose name contains it (`npm run bench -- submit`). Sizes can be set one by one, e.g.
 * `BENCH_MILLION_N=200000` (see each bench/<name>.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { MODES, MiB, QUICK, round, runChild, type Mode } from './lib.ts';

interface Row {
  metric: string;
  value: number | string | boolean;
  unit: string;
  /** Only for figures with a target (targets are set for mode 'flush'). */
  target?: string;
  met?: boolean;
}

type Result = Record<string, unknown>;

/** The benchmarks in running order, each with how its result becomes table rows. */
/** Rows from a benchmark that reports `targets: [{ metric, value, target, met }]` and `figures`. */
function targetRows(r: Result): Row[] {
  const targets = (r.targets ?? []) as {
    metric: string;
    value: number | string | boolean;
    target: string;
    met: boolean;
  }[];
  return targets.map((t) => ({ metric: t.metric, value: t.value, unit: '', target: t.target, met: t.met }));
}

/**
 * Rows from a benchmark that reports `rows: [{ metric, value, unit, range? }]` (its absolute figures, `range` their
 * min–max over the rounds), then its targets.
 */
function figureRows(r: Result): Row[] {
  const figures = (r.rows ?? []) as {
    metric: string;
    value: number | string;
    unit: string;
    range?: string;
  }[];
  return [
    ...figures.map((f) => ({
      metric: f.range === undefined ? f.metric : `${f.metric} (${f.range})`,
      value: f.value,
      unit: f.unit,
    })),
    ...targetRows(r),
  ];
}

/** The benchmarks in running order; `once` runs one time (setting its own modes), its table headed by its name. */
const BENCHES: { name: string; once?: true; rows: (r: Result) => Row[] }[] = [
  {
    name: 'submit-serial',
    rows: (r) => [
      { metric: 'submit, one at a time', value: num(r.perSec), unit: 'submits/s' },
      {
        metric: 'submit, one at a time: p50',
        value: num(r.p50Ms),
        unit: 'ms',
        target: '≤ 1 ms',
        met: num(r.p50Ms) <= 1,
      },
      { metric: 'submit, one at a time: p99', value: num(r.p99Ms), unit: 'ms' },
      { metric: 'submit, one at a time: CPU per submit', value: num(r.cpuUsPerSubmit), unit: 'µs' },
      { metric: 'submit, one at a time: GC per submit', value: num(r.gcUsPerSubmit), unit: 'µs' },
    ],
  },
  {
    name: 'submit-concurrent',
    rows: (r) => [
      {
        metric: `submit, ${num(r.inFlight)} in flight`,
        value: num(r.perSec),
        unit: 'submits/s',
        target: '≥ 10,000/s',
        met: num(r.perSec) >= 10_000,
      },
      { metric: `submit, ${num(r.inFlight)} in flight: p50`, value: num(r.p50Ms), unit: 'ms' },
      { metric: `submit, ${num(r.inFlight)} in flight: p99`, value: num(r.p99Ms), unit: 'ms' },
      {
        metric: `submit, ${num(r.inFlight)} in flight: CPU per submit`,
        value: num(r.cpuUsPerSubmit),
        unit: 'µs',
      },
      {
        metric: `submit, ${num(r.inFlight)} in flight: GC per submit`,
        value: num(r.gcUsPerSubmit),
        unit: 'µs',
      },
    ],
  },
  {
    name: 'submit-many',
    rows: (r) =>
      Object.entries(r.batches as Record<string, Result>).flatMap(([batch, b]) => [
        {
          metric: `submitMany(${batch})`,
          value: num(b.jobsPerSec),
          unit: 'jobs/s',
          target: '≥ 20,000/s',
          met: num(b.jobsPerSec) >= 20_000,
        },
        { metric: `submitMany(${batch}): call p50`, value: num(b.callP50Ms), unit: 'ms' },
        { metric: `submitMany(${batch}): call p99`, value: num(b.callP99Ms), unit: 'ms' },
        { metric: `submitMany(${batch}): CPU per job`, value: num(b.cpuUsPerJob), unit: 'µs' },
        { metric: `submitMany(${batch}): GC per job`, value: num(b.gcUsPerJob), unit: 'µs' },
      ]),
  },
  {
    name: 'startup',
    rows: (r) => [
      {
        metric: `time to ready, ${num(r.jobs).toLocaleString('en')} jobs + ${num(r.workers)} workers`,
        value: num(r.readyMs),
        unit: 'ms',
        target: '≤ 2,000 ms',
        met: num(r.readyMs) <= 2_000,
      },
      { metric: 'time to ready: from process start', value: num(r.sinceProcessStartMs), unit: 'ms' },
      { metric: 'first submit after ready (loads work state)', value: num(r.firstSubmitMs), unit: 'ms' },
      { metric: 'time to ready: heartbeat timers loaded', value: num(r.timersLoaded), unit: 'timers' },
    ],
  },
  {
    name: 'heap',
    rows: (r) => [
      {
        metric: `heap per live job actor (${num(r.actors).toLocaleString('en')} live)`,
        value: num(r.overseerBytesPerActor),
        unit: 'B',
        target: '≤ 5,120 B',
        met: num(r.overseerBytesPerActor) <= 5_120,
      },
      { metric: 'heap per job-machine actor, no host', value: num(r.jobMachineBytesPerActor), unit: 'B' },
      { metric: 'heap per bare XState actor', value: num(r.bareXStateBytesPerActor), unit: 'B' },
    ],
  },
  {
    name: 'million',
    rows: (r) => {
      const sum = num(r.heapPlusRssAnonMiB);
      return [
        {
          metric: `${num(r.jobs).toLocaleString('en')} persisted: heapUsed + RssAnon`,
          value: sum,
          unit: 'MiB',
          target: '≤ 300 MB (286 MiB)',
          met: sum * MiB <= 300e6,
        },
        { metric: '… heapUsed', value: num(r.heapUsedMiB), unit: 'MiB' },
        { metric: '… RssAnon', value: num(r.rssAnonMiB), unit: 'MiB' },
        { metric: '… RssFile (file-backed: node binary + LMDB map)', value: num(r.rssFileMiB), unit: 'MiB' },
        { metric: '… of which LMDB map (data.mdb)', value: num(r.mdbRssMiB), unit: 'MiB' },
        { metric: '… time to ready', value: num(r.readyMs), unit: 'ms' },
        { metric: '… first submit after ready (loads work state)', value: num(r.firstSubmitMs), unit: 'ms' },
        {
          metric: '… heapUsed + RssAnon after that submit',
          value: num((r.afterFirstSubmit as Result).heapPlusRssAnonMiB),
          unit: 'MiB',
        },
        {
          metric: '… jobs.list({ limit: 50 }) and jobs.get work',
          value: r.listOk === true && r.getOk === true,
          unit: '',
        },
        {
          metric: '… setup (submitMany + passivate)',
          value: num((r.setup as Result).jobsPerSec),
          unit: 'jobs/s',
        },
      ];
    },
  },
  // Work distribution (W1, W2) and the HTTP API: each reports its own figures and targets.
  ...(['w1', 'w2', 'http'] as const).map((name) => ({ name, rows: targetRows })),
  // The NATS transport: a command against a bare and a durable echo, and W1 with consumers claiming over NATS.
  {
    name: 'nats',
    rows: (r) => {
      const one = r.oneAtATime as Record<string, Result>;
      const many = r.concurrent as Record<string, Result>;
      return [
        ...['echo', 'durable', 'command'].flatMap((t) => [
          { metric: `NATS ${t}, one at a time: p50`, value: num(one[t]!.p50Ms), unit: 'ms' },
          { metric: `NATS ${t}, one at a time: p99`, value: num(one[t]!.p99Ms), unit: 'ms' },
          { metric: `NATS ${t}, ${num(r.inFlight)} in flight`, value: num(many[t]!.perSec), unit: 'req/s' },
        ]),
        ...targetRows(r),
      ];
    },
  },
  { name: 'w1-nats', rows: targetRows },
  {
    name: 'cli-help',
    rows: (r) => [
      { metric: '`overseer --help`, installed package', value: num(r.installedHelpMs), unit: 'ms' },
      { metric: '`node -e 0`', value: num(r.nodeBareMs), unit: 'ms' },
      { metric: '`overseer --help`, checkout (source through tsx)', value: num(r.sourceHelpMs), unit: 'ms' },
      ...targetRows(r),
    ],
  },
  // Issue 22: W1 and W2 beside BullMQ on a redis-server of its own, in alternating rounds (both modes inside).
  { name: 'peers', once: true, rows: figureRows },
  // Issue 16: transition (no gate) beside POST /api/jobs and the state snapshot beside GET /api/jobs/{id}, 8 connections.
  { name: 'workflow', rows: figureRows },
  // The tool-policy decision (pure), with the adapter's shell parsing and file-system facts apart.
  {
    name: 'tool-decision',
    rows: (r) => {
      const us = (k: string, p: string) => num((r[k] as Result | undefined)?.[p]);
      return [
        ...targetRows(r),
        { metric: 'tool decision (pure): p50', value: us('decisionUs', 'p50'), unit: 'µs' },
        { metric: 'shell parse (tree-sitter-bash): p50', value: us('parseUs', 'p50'), unit: 'µs' },
        { metric: 'shell parse (tree-sitter-bash): p99', value: us('parseUs', 'p99'), unit: 'µs' },
        { metric: 'path facts (lstat + realpath): p50', value: us('factsUs', 'p50'), unit: 'µs' },
        { metric: 'path facts (lstat + realpath): p99', value: us('factsUs', 'p99'), unit: 'µs' },
      ];
    },
  },
];

function num(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}

function fmt(v: Row['value']): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'NO';
  if (typeof v === 'string') return v;
  if (Number.isNaN(v)) return '—';
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en') : String(round(v, 2));
}

/** A table of rows under a mode's heading, or a `once` benchmark's name (its targets are its own). */
function table(key: string, rows: Row[]): string {
  const isMode = (MODES as readonly string[]).includes(key);
  const cells = rows.map((r) => [
    r.metric,
    fmt(r.value),
    r.unit,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const head = ['metric', isMode ? `mode '${key}'` : key, 'unit', isMode ? 'target (flush)' : 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c.map((s, i) => (i === 1 ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const modes = (process.env.BENCH_MODES?.split(',') ?? MODES).filter((m): m is Mode =>
  (MODES as readonly string[]).includes(m),
);
const selected = BENCHES.filter((b) => filters.length === 0 || filters.some((f) => b.name.includes(f)));
if (selected.length === 0) {
  process.stderr.write(
    `No benchmark matches ${filters.join(' ')}; known: ${BENCHES.map((b) => b.name).join(', ')}\n`,
  );
  process.exit(2);
}

/** The machine's speed without Overseer (bench/calibrate.ts), taken before and after the benchmarks. */
interface Calibration {
  cpuMs: number;
  lmdb1Ms: number;
  lmdb16Ms: number;
  fdatasyncMs: number;
}

async function calibrate(when: string): Promise<Calibration | null> {
  process.stderr.write(`▶ calibrate (${when})\n`);
  try {
    return (await runChild('calibrate')) as Calibration;
  } catch (err) {
    // Not a benchmark: its failure is reported, and does not fail the run.
    process.stderr.write(`✖ calibrate (${when}) failed: ${String(err)}\n`);
    return null;
  }
}

const describe = (c: Calibration | null): string =>
  c
    ? `CPU reference ${c.cpuMs} ms, LMDB commit + flush ${c.lmdb1Ms} ms (1 put) / ${c.lmdb16Ms} ms (16 random puts), ` +
      `fdatasync ${c.fdatasyncMs} ms`
    : 'calibration failed';

const startedAt = new Date();
const loadBefore = loadavg();
const failures: string[] = [];
const calibrationBefore = await calibrate('before');
const results: Record<string, Record<string, Result>> = {};
const rows: Record<string, Row[]> = {};
for (const bench of selected) {
  for (const mode of bench.once ? [bench.name] : modes) {
    process.stderr.write(`▶ ${bench.name}${bench.once ? '' : ` (${mode})`}${QUICK ? ' [quick]' : ''}\n`);
    const t0 = performance.now();
    try {
      const result = (await runChild(bench.name, bench.once ? [] : ['--mode', mode])) as Result;
      result.seconds = round((performance.now() - t0) / 1000, 1);
      (results[mode] ??= {})[bench.name] = result;
      (rows[mode] ??= []).push(...bench.rows(result));
    } catch (err) {
      failures.push(`${bench.name} (${mode}): ${String(err)}`);
      process.stderr.write(`✖ ${bench.name} (${mode}) failed: ${String(err)}\n`);
    }
  }
}

const calibrationAfter = await calibrate('after');

/** The commit measured (`BENCH_COMMIT` when running outside a checkout) and whether src/ had local changes. */
function source(): { commit: string; srcDirty: boolean | null } {
  if (process.env.BENCH_COMMIT) return { commit: process.env.BENCH_COMMIT, srcDirty: false };
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: 'pipe' }).trim();
    return { commit: git('rev-parse', 'HEAD'), srcDirty: git('status', '--porcelain', '--', 'src') !== '' };
  } catch {
    return { commit: 'unknown', srcDirty: null };
  }
}

const cpu = cpus();
const summary = {
  startedAt: startedAt.toISOString(),
  seconds: round((Date.now() - startedAt.getTime()) / 1000, 1),
  quick: QUICK,
  source: source(),
  machine: {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${process.platform} ${release()}`,
    loadavgBefore: loadBefore.map((l) => round(l, 2)),
    loadavgAfter: loadavg().map((l) => round(l, 2)),
    calibration: { before: calibrationBefore, after: calibrationAfter },
  },
  targets: Object.fromEntries(
    Object.entries(rows).map(([mode, rs]) => [
      mode,
      rs
        .filter((r) => r.met !== undefined)
        .map((r) => ({ metric: r.metric, value: r.value, target: r.target, met: r.met })),
    ]),
  ),
  results,
  failures,
};

process.stdout.write(
  `\nOverseer benchmarks${QUICK ? ' (BENCH_QUICK=1: small sizes, figures not comparable to targets)' : ''} — ` +
    `${summary.machine.cpus} × ${summary.machine.cpuModel}, Node ${process.version}, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n` +
    `Machine before: ${describe(calibrationBefore)}\nMachine after:  ${describe(calibrationAfter)}\n\n`,
);
for (const key of [...modes, ...selected.filter((b) => b.once).map((b) => b.name)])
  if (rows[key]) process.stdout.write(`${table(key, rows[key])}\n\n`);
if (failures.length > 0) process.stdout.write(`Failed: ${failures.join('; ')}\n\n`);
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);

const out = join(process.cwd(), '.bench');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, QUICK ? 'results-quick.json' : 'results.json'),
  `${JSON.stringify(summary, null, 2)}\n`,
);
if (failures.length > 0) process.exitCode = 1;
