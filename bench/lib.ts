/**
 * Shared helpers of the benchmarks: temp data dirs, statistics, memory readings, child processes and the result
 * protocol (a child writes one JSON object to the file named by `BENCH_RESULT`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createOverseer, type Overseer } from '../src/index.ts';

export type Mode = 'flush' | 'commit';
export const MODES: readonly Mode[] = ['flush', 'commit'];

/** `BENCH_QUICK=1`: small sizes for a smoke run. */
export const QUICK = process.env.BENCH_QUICK === '1';

/** `full` in a real run, `quick` under BENCH_QUICK=1; `BENCH_<NAME>` overrides both. */
export function size(name: string, full: number, quick: number): number {
  const override = process.env[`BENCH_${name}`];
  if (override !== undefined && override !== '') return Number(override.replace(/_/g, ''));
  return QUICK ? quick : full;
}

/** The arguments every benchmark script takes: `--mode flush|commit`, `--phase <name>`, `--dir <path>`. */
export function benchArgs(): { mode: Mode; phase: string | undefined; dir: string | undefined } {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'flush' },
      phase: { type: 'string' },
      dir: { type: 'string' },
    },
    strict: false,
  });
  const mode = values.mode === 'commit' ? 'commit' : 'flush';
  const phase = typeof values.phase === 'string' ? values.phase : undefined;
  const dir = typeof values.dir === 'string' ? values.dir : undefined;
  return { mode, phase, dir };
}

/** A fresh directory in os.tmpdir(). */
export function tempDir(prefix = 'overseer-bench-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Opens Overseer the way the benchmarks use it: silent logs, otherwise the defaults unless told. */
export function open(dataDir: string, mode: Mode, passivateAfterMs?: number): Promise<Overseer> {
  return createOverseer({
    dataDir,
    durability: mode,
    logLevel: 'silent',
    ...(passivateAfterMs === undefined ? {} : { passivateAfterMs }),
  });
}

// ── statistics ───────────────────────────────────────────────────────────────

/** The p-th percentile (0–100) of ascending values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median; the mean of the middle two for an even count. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, min and max of several runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spread(values: readonly number[]): Spread {
  return {
    median: round(median(values)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
    runs: values.map((v) => round(v)),
  };
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Latency percentiles in milliseconds of samples in milliseconds. */
export function latency(samples: number[]): { p50: number; p99: number; max: number } {
  const sorted = samples.sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

// ── CPU and GC ───────────────────────────────────────────────────────────────

let gcMs = 0;
let gcObserver: PerformanceObserver | null = null;

/** What a measured section cost: wall time, CPU time of the whole process (all threads) and GC pauses. */
export interface Cost {
  wallMs: number;
  cpuMs: number;
  gcMs: number;
}

/**
 * Starts measuring; the returned function ends the section. CPU time (`process.cpuUsage`, every thread, including
 * LMDB's) is less disturbed than wall time by other processes on the machine, so each benchmark reports both.
 */
export function startCost(): () => Promise<Cost> {
  if (!gcObserver) {
    gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcMs += entry.duration;
    });
    gcObserver.observe({ entryTypes: ['gc'] });
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const g0 = gcMs;
  return async () => {
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    await sleep(20); // GC entries arrive asynchronously
    return { wallMs, cpuMs: (c.user + c.system) / 1000, gcMs: gcMs - g0 };
  };
}

/** The 1-minute load average, to show how busy the machine was. */
export const load1 = (): number => round(loadavg()[0]!, 2);

// ── memory ───────────────────────────────────────────────────────────────────

/** Collects garbage until the heap stops shrinking (needs `--expose-gc`). */
export async function fullGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 1024) break;
    last = used;
  }
}

/** Memory of this process in bytes: V8 heap, plus RSS split as Linux reports it in /proc/self/status. */
export interface MemoryReading {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  vmRss: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  /** The part of RssFile that is LMDB's memory map (`*.mdb` in /proc/self/smaps); the rest is mostly node itself. */
  mdbRss: number;
}

/** Resident bytes of the mappings of files whose name ends with `suffix`. */
function mappedRss(suffix: string): number {
  let total = 0;
  for (const block of readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const head = block.slice(0, block.indexOf('\n'));
    if (!head.endsWith(suffix)) continue;
    const m = /\nRss:\s+(\d+) kB/.exec(block);
    if (m) total += Number(m[1]) * 1024;
  }
  return total;
}

export function memory(): MemoryReading {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  const mu = process.memoryUsage();
  return {
    heapUsed: mu.heapUsed,
    heapTotal: mu.heapTotal,
    external: mu.external,
    arrayBuffers: mu.arrayBuffers,
    vmRss: kb('VmRSS'),
    rssAnon: kb('RssAnon'),
    rssFile: kb('RssFile'),
    rssShmem: kb('RssShmem'),
    mdbRss: mappedRss('.mdb'),
  };
}

export const MiB = 1024 * 1024;

// ── processes and results ────────────────────────────────────────────────────

/** Writes this benchmark's figures where the parent expects them (or prints them when run by hand). */
export function report(result: unknown): void {
  const file = process.env.BENCH_RESULT;
  const json = JSON.stringify(result, null, 2);
  if (file) writeFileSync(file, json);
  else process.stdout.write(`${json}\n`);
}

/** Progress for the human watching, on stderr so stdout stays clean. */
export function progress(message: string): void {
  process.stderr.write(`    ${message}\n`);
}

const benchDir = fileURLToPath(new URL('.', import.meta.url));

/** Absolute path of a benchmark script in bench/. */
export const script = (name: string): string => join(benchDir, `${name}.ts`);

/**
 * Runs `node --expose-gc --import tsx bench/<name>.ts ...args` in a child process and returns the JSON it
 * reports. The child's stdout and stderr go to our stderr.
 */
export async function runChild(
  name: string,
  args: string[] = [],
  nodeFlags: string[] = [],
): Promise<unknown> {
  const dir = tempDir('overseer-bench-result-');
  const file = join(dir.path, 'result.json');
  try {
    const child = spawn(
      process.execPath,
      ['--expose-gc', ...nodeFlags, '--import', 'tsx', script(name), ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, BENCH_RESULT: file },
      },
    );
    child.stdout.pipe(process.stderr, { end: false });
    child.stderr.pipe(process.stderr, { end: false });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`bench/${name}.ts ${args.join(' ')} exited with ${String(code)}`);
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } finally {
    dir.remove();
  }
}

/** The job every submit benchmark sends: a realistic small spec. */
export function jobInput(i: number): { title: string; priority: 'normal'; type: 'feature' } {
  return { title: `bench job ${i}`, priority: 'normal', type: 'feature' };
}

/**
 * Fills a runtime with `jobs` QUEUED jobs (submitMany in batches of 1,000, two calls in flight) and `workers`
 * registered workers (each with its durable heartbeat timer), passivating after every durable batch so the
 * process stays bounded. Returns jobs/s of the fill.
 */
export async function populate(
  ov: Overseer,
  opts: { jobs: number; workers: number; ws?: string },
): Promise<{ jobsPerSec: number; seconds: number }> {
  const ws = ov.workspace(opts.ws ?? 'bench');
  const host = ov.runtime.host;
  for (let w = 0; w < opts.workers; w += 100) {
    const n = Math.min(100, opts.workers - w);
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        ws.workers.register({ name: `worker-${w + i}`, capabilities: ['ts'] }),
      ),
    );
  }
  const BATCH = 1_000;
  const t0 = performance.now();
  let prev: Promise<unknown> = Promise.resolve();
  let lastReport = t0;
  for (let done = 0; done < opts.jobs; done += BATCH) {
    const n = Math.min(BATCH, opts.jobs - done);
    const call = ws.jobs.submitMany(Array.from({ length: n }, (_, i) => jobInput(done + i)));
    await prev;
    host.passivate(Infinity);
    prev = call;
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      const heap = Math.round(process.memoryUsage().heapUsed / MiB);
      progress(`populate: ${done + n}/${opts.jobs} jobs, heap ${heap} MiB, live ${host.liveCount}`);
    }
  }
  await prev;
  await host.pipeline.idle();
  host.passivate(Infinity);
  const seconds = (performance.now() - t0) / 1000;
  return { jobsPerSec: opts.jobs / seconds, seconds };
}

/** Size in bytes of the files of a directory (not recursive: an LMDB data dir is flat). */
export function dirBytes(path: string): number {
  let total = 0;
  for (const name of readdirSync(path)) total += statSync(join(path, name)).size;
  return total;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What each round of an HTTP load measurement reports (autocannon's figures and the server's CPU). */
export interface LoadRound {
  reqPerSec: number;
  p50: number;
  p99: number;
  serverCpuUs: number;
}

/** The medians of a measurement's rounds: req/s, p50, p99 and server CPU µs per request. */
export function medianOfRounds(rounds: readonly LoadRound[]): {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuUsPerReq: number;
} {
  const med = (f: (c: LoadRound) => number) => (rounds.length > 0 ? median(rounds.map(f)) : NaN);
  return {
    reqPerSec: round(
      med((c) => c.reqPerSec),
      0,
    ),
    p50Ms: round(
      med((c) => c.p50),
      2,
    ),
    p99Ms: round(
      med((c) => c.p99),
      2,
    ),
    serverCpuUsPerReq: round(
      med((c) => c.serverCpuUs),
      1,
    ),
  };
}
