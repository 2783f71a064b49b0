/**
 * A command over NATS against the floors it is built on, side by side in one run (issue 6, "Proof and figures"):
 *
 * - (a) `echo`: a plain nats.js subscription that answers every request with its payload;
 * - (b) `durable`: a plain nats.js subscription that, per request, does one LMDB `put` (lmdb opened as
 *   src/store/lmdb-store.ts opens it: `maxDbs: 16`, `compression: false`, shared msgpack structures) and, in mode
 *   'flush', awaits `root.flushed` (in 'commit', the commit) before it answers: the floor of a durable command;
 * - (c) `command`: `workers.pause` / `workers.resume` (alternating, so every sample is a real transition with its
 *   journal record, snapshot and event) on `overseer.cmd.bench.workers.*` of a data node
 *   (`serve({ nats, port: 0, dataDir, logLevel: 'silent' })`, as `overseer serve --nats` runs), with a JWT
 *   (`supervisor:write`) in the `Authorization` header.
 *
 * Every request of (a), (b) and (c) carries the same kind of payload (`{"workerId":"wrk_…"}`) and the same
 * `Authorization` header; every reply is JSON-decoded by the client, and (c)'s answer is checked (no service error,
 * the expected status).
 *
 * Each is measured one at a time (`NATS_SERIAL_N` samples per round, default 2,000: p50/p99 of request → reply) and
 * with 64 in flight (64 loops, each on its own registered worker, `NATS_SECONDS` s per round, default 5: requests/s
 * and p99). The machine is shared: so that a burst of someone else's load does not land on one target only, each
 * round splits every measurement into `NATS_BLOCKS` blocks (default 10: 200 samples, or 0.5 s) and the three
 * targets take turns block by block (in a rotating order); a round's figures pool its blocks. `RUNS` rounds
 * (default 3) follow a warm-up round; the ratios the targets use — p99 one at a time (c) ÷ (b) (≤ 1.5) and
 * throughput at 64 (c) ÷ (b) (≥ 0.6) — are taken per round, and their medians reported.
 *
 * The clients run in a child process (this file with `--phase client`, driven over the IPC channel): 64 loops of
 * request encoding, reply decoding and nats.js parsing on the server's event loop would be counted against all
 * three servers and would hide the differences between them (the server's event loop is what the figures are
 * about). Both processes, and nats-server, still share the machine's 2 cores, as the HTTP benchmark's autocannon
 * does. The nats-server is the benchmark's own (`startNatsServer`, a random port, never 4222). The server
 * process's CPU time per request is reported too (all threads, LMDB's included; it is less disturbed by other
 * processes than the wall-clock figures).
 */
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { open as openLmdb } from 'lmdb';
import { createToken } from '../src/api/auth.ts';
import { serve } from '../src/cli/serve.ts';
import { startNatsServer } from '../src/testing.ts';
import { startChild } from './child.ts';
import {
  benchArgs,
  latency,
  load1,
  median,
  progress,
  report,
  round,
  script,
  size,
  spread,
  tempDir,
} from './lib.ts';

const { mode, phase } = benchArgs();
const SERIAL_N = size('NATS_SERIAL_N', 2_000, 200);
const SECONDS = size('NATS_SECONDS', 5, 1);
const IN_FLIGHT = size('NATS_IN_FLIGHT', 64, 64);
const RUNS = size('RUNS', 3, 1);
const WARMUP_N = size('NATS_WARMUP_N', 300, 50);
const WARMUP_SECONDS = size('NATS_WARMUP_SECONDS', 1, 0.5);
/** Each round splits every measurement into this many blocks, the three targets taking turns. */
const BLOCKS = size('NATS_BLOCKS', 10, 2);
const WS = 'bench';
const SECRET_TEXT = 'overseer-bench-secret-of-at-least-32-bytes!';
const REQUEST_TIMEOUT_MS = 30_000;

const TARGETS = ['echo', 'durable', 'command'] as const;
type Target = (typeof TARGETS)[number];
const ECHO_SUBJECT = 'bench.echo';
const DURABLE_SUBJECT = 'bench.durable';

/** What the parent asks the client process to do. */
type Request =
  | { type: 'init'; url: string; token: string; workers: string[] }
  | { type: 'serial'; pool: string; target: Target; samples: number }
  | { type: 'concurrent'; pool: string; target: Target; loops: number; seconds: number }
  | { type: 'summary'; pool: string };
type Ask = Request & { id: number };

/** One measurement as the client saw it. */
interface Measured {
  count: number;
  errors: number;
  seconds: number;
  perSec: number;
  p50: number;
  p99: number;
  max: number;
}

type Answer = { id: number; error?: string } & Partial<Measured>;

if (phase === 'client') client();
else await main();

// ── the client process ───────────────────────────────────────────────────────

/** Serves the parent's requests until the IPC channel closes. */
function client(): void {
  let nc: NatsConnection | undefined;
  let workers: string[] = [];
  const h = natsHeaders();
  /** Each worker's state as the client left it: the next command on it is resume when paused. */
  const paused = new Map<string, boolean>();

  /** One request on `worker` to `target`; answers its latency in ms, or throws. */
  const once = async (target: Target, worker: string): Promise<number> => {
    const payload = JSON.stringify({ workerId: worker });
    const pause = !paused.get(worker);
    const subject =
      target === 'echo'
        ? ECHO_SUBJECT
        : target === 'durable'
          ? DURABLE_SUBJECT
          : `overseer.cmd.${WS}.workers.${pause ? 'pause' : 'resume'}`;
    const t0 = performance.now();
    const msg: Msg = await nc!.request(subject, payload, { headers: h, timeout: REQUEST_TIMEOUT_MS });
    const ms = performance.now() - t0;
    const body = msg.json<{ status?: string; workerId?: string }>();
    if (target === 'command') {
      const error = msg.headers?.get('Nats-Service-Error');
      if (error) throw new Error(`${subject}: ${error} ${msg.string()}`);
      const expected = pause ? 'PAUSED' : 'IDLE';
      if (body.status !== expected)
        throw new Error(`${subject}: status ${body.status} (${expected} expected)`);
      paused.set(worker, pause);
    } else if (body.workerId !== worker) throw new Error(`${subject}: echoed ${msg.string()}`);
    return ms;
  };

  /** The samples of each pool (one target, one shape, one round), gathered over its blocks. */
  const pools = new Map<string, { samples: number[]; errors: number; seconds: number }>();
  const poolOf = (name: string) => {
    let pool = pools.get(name);
    if (!pool) pools.set(name, (pool = { samples: [], errors: 0, seconds: 0 }));
    return pool;
  };

  /** Runs `loops` loops, each on its own worker, until `samples` requests are done or `seconds` are over. */
  const block = async (
    pool: string,
    target: Target,
    loops: number,
    limit: { samples: number } | { seconds: number },
  ): Promise<Partial<Measured>> => {
    const into = poolOf(pool);
    const before = { count: into.samples.length, errors: into.errors };
    const t0 = performance.now();
    const deadline = 'seconds' in limit ? t0 + limit.seconds * 1000 : Infinity;
    let left = 'samples' in limit ? limit.samples : Infinity;
    const loop = async (worker: string): Promise<void> => {
      while (left-- > 0 && performance.now() < deadline) {
        try {
          into.samples.push(await once(target, worker));
        } catch (err) {
          if (into.errors++ === 0) progress(`nats client: ${String(err)}`);
        }
      }
    };
    await Promise.all(workers.slice(0, loops).map(loop));
    into.seconds += (performance.now() - t0) / 1000;
    return { count: into.samples.length - before.count, errors: into.errors - before.errors };
  };

  const summary = (name: string): Measured => {
    const pool = poolOf(name);
    pools.delete(name);
    const { samples, errors, seconds } = pool;
    return { count: samples.length, errors, seconds, perSec: samples.length / seconds, ...latency(samples) };
  };

  process.on('message', (ask: Ask) => {
    const run = async (): Promise<Partial<Measured>> => {
      switch (ask.type) {
        case 'init':
          nc = await connect({ servers: ask.url, name: 'bench-nats-client' });
          workers = ask.workers;
          h.set('Authorization', `Bearer ${ask.token}`);
          return {};
        case 'serial':
          return block(ask.pool, ask.target, 1, { samples: ask.samples });
        case 'concurrent':
          return block(ask.pool, ask.target, ask.loops, { seconds: ask.seconds });
        case 'summary':
          return summary(ask.pool);
      }
    };
    run().then(
      (m) => process.send!({ id: ask.id, ...m } satisfies Answer),
      (err: unknown) => process.send!({ id: ask.id, error: String(err) } satisfies Answer),
    );
  });
  process.on('disconnect', () => {
    void (nc?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  });
  process.send!({ id: 0 } satisfies Answer);
}

// ── the server process ───────────────────────────────────────────────────────

/** The client process and a way to ask it something and await its answer. */
async function startClient(): Promise<{ ask(msg: Request): Promise<Measured>; stop(): void }> {
  const child = await startChild<Request, Answer>(
    'nats client process',
    script('nats'),
    ['--phase', 'client', '--mode', mode],
    {},
  );
  return { ask: async (msg) => (await child.ask(msg)) as Measured, stop: () => child.stop() };
}

interface Sample extends Measured {
  /** CPU time of this (the server's) process per request, µs: every thread, LMDB's included. */
  serverCpuUs: number;
  load: number;
}

async function main(): Promise<void> {
  const ns = await startNatsServer();
  const dataDir = tempDir();
  const echoDir = tempDir();
  process.env['OVERSEER_JWT_SECRET'] = SECRET_TEXT;
  const node = await serve(
    { host: '127.0.0.1', port: 0, dataDir: dataDir.path, logLevel: 'silent', nats: ns.url, durability: mode },
    () => undefined,
  );
  // The floors: their own connection, in this same process, beside the (idle) data node.
  const nc = await connect({ servers: ns.url, name: 'bench-echo' });
  const root = openLmdb({ path: echoDir.path, maxDbs: 16, compression: false });
  const db = root.openDB({ name: 'echo', sharedStructuresKey: Symbol.for('structures') });
  let seq = 0;
  nc.subscribe(ECHO_SUBJECT, {
    callback: (err, msg) => {
      if (err === null) msg.respond(msg.data);
    },
  });
  nc.subscribe(DURABLE_SUBJECT, {
    callback: (err, msg) => {
      if (err !== null) return;
      const value = { ...msg.json<Record<string, unknown>>(), at: Date.now() };
      db.put(['echo', ++seq], value)
        .then(() => (mode === 'flush' ? root.flushed : undefined))
        .then(
          () => msg.respond(msg.data),
          (e: unknown) => msg.respond(JSON.stringify({ error: String(e) })),
        );
    },
  });
  await nc.flush();

  const ov = node.ov!;
  const ws = ov.workspace(WS);
  const workers = (
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, (_, i) => ws.workers.register({ name: `nats-bench-${i}` })),
    )
  ).map((w) => w.id);
  const secret = new TextEncoder().encode(SECRET_TEXT);
  const token = await createToken(
    { secret },
    { sub: 'bench', workspaceId: WS, scopes: ['supervisor:write'], ttlSeconds: 3600 },
  );

  const client = await startClient();
  try {
    await client.ask({ type: 'init', url: ns.url, token, workers });
    /** An idle worker goes OFFLINE after 30 s without a sign of life: beat them all now and then (not measured). */
    let lastBeat = -Infinity;
    const beat = async (): Promise<void> => {
      if (performance.now() - lastBeat < 10_000) return;
      await Promise.all(workers.map((w) => ws.workers.heartbeat(w)));
      await ov.runtime.host.pipeline.idle();
      lastBeat = performance.now();
    };
    const cpu = new Map<string, { us: number; requests: number }>();
    const block = async (ask: Extract<Request, { type: 'serial' | 'concurrent' }>): Promise<void> => {
      if (ask.target === 'command') await beat();
      const c0 = process.cpuUsage();
      const m = await client.ask(ask);
      const used = process.cpuUsage(c0);
      const acc = cpu.get(ask.pool) ?? { us: 0, requests: 0 };
      acc.us += used.user + used.system;
      acc.requests += m.count + m.errors;
      cpu.set(ask.pool, acc);
    };
    const finish = async (pool: string): Promise<Sample> => {
      const m = await client.ask({ type: 'summary', pool });
      const c = cpu.get(pool)!;
      cpu.delete(pool);
      // Without a single answered request the percentiles are NaN, which crossed the IPC channel as null.
      const n = (v: number | null) => v ?? NaN;
      return {
        ...m,
        perSec: n(m.perSec),
        p50: n(m.p50),
        p99: n(m.p99),
        max: n(m.max),
        serverCpuUs: c.us / Math.max(1, c.requests),
        load: load1(),
      };
    };
    /** Block `b` runs the targets in a rotated order, so that none always follows another. */
    const order = (b: number): Target[] => TARGETS.map((_, i) => TARGETS[(i + b) % TARGETS.length]!);
    /** One round: the one-at-a-time blocks, then the in-flight blocks, each target in turn. */
    const measureRound = async (
      label: string,
      samples: number,
      seconds: number,
    ): Promise<{ serial: Record<Target, Sample>; concurrent: Record<Target, Sample> }> => {
      const pool = (shape: string, t: Target) => `${label}:${shape}:${t}`;
      const perBlock = Math.max(1, Math.ceil(samples / BLOCKS));
      for (let b = 0; b < BLOCKS; b++)
        for (const target of order(b))
          await block({ type: 'serial', pool: pool('serial', target), target, samples: perBlock });
      for (let b = 0; b < BLOCKS; b++)
        for (const target of order(b))
          await block({
            type: 'concurrent',
            pool: pool('concurrent', target),
            target,
            loops: IN_FLIGHT,
            seconds: seconds / BLOCKS,
          });
      const serial = {} as Record<Target, Sample>;
      const concurrent = {} as Record<Target, Sample>;
      for (const t of TARGETS) {
        serial[t] = await finish(pool('serial', t));
        concurrent[t] = await finish(pool('concurrent', t));
      }
      return { serial, concurrent };
    };

    await measureRound('warmup', WARMUP_N, WARMUP_SECONDS);
    const serial: Record<Target, Sample[]> = { echo: [], durable: [], command: [] };
    const concurrent: Record<Target, Sample[]> = { echo: [], durable: [], command: [] };
    for (let r = 0; r < RUNS; r++) {
      const m = await measureRound(`run${r}`, SERIAL_N, SECONDS);
      for (const target of TARGETS) {
        const s = m.serial[target];
        serial[target].push(s);
        progress(
          `nats ${mode} run ${r + 1}/${RUNS} ${target}, one at a time: p50 ${s.p50.toFixed(3)} ms, ` +
            `p99 ${s.p99.toFixed(3)} ms, ${Math.round(s.perSec)}/s, ${s.errors} errors, ` +
            `${Math.round(s.serverCpuUs)} µs server CPU/req (load ${s.load})`,
        );
      }
      for (const target of TARGETS) {
        const s = m.concurrent[target];
        concurrent[target].push(s);
        progress(
          `nats ${mode} run ${r + 1}/${RUNS} ${target}, ${IN_FLIGHT} in flight: ${Math.round(s.perSec)}/s, ` +
            `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, ${s.errors} errors, ` +
            `${Math.round(s.serverCpuUs)} µs server CPU/req (load ${s.load})`,
        );
      }
    }

    const summary = (samples: Sample[]) => ({
      perSec: round(median(samples.map((s) => s.perSec)), 0),
      p50Ms: round(median(samples.map((s) => s.p50)), 3),
      p99Ms: round(median(samples.map((s) => s.p99)), 3),
      maxMs: round(median(samples.map((s) => s.max)), 3),
      serverCpuUsPerReq: round(median(samples.map((s) => s.serverCpuUs)), 1),
      requests: samples.reduce((a, s) => a + s.count, 0),
      errors: samples.reduce((a, s) => a + s.errors, 0),
      spread: {
        perSec: spread(samples.map((s) => s.perSec)),
        p50Ms: spread(samples.map((s) => s.p50)),
        p99Ms: spread(samples.map((s) => s.p99)),
      },
    });
    const per = (table: Record<Target, Sample[]>) =>
      Object.fromEntries(TARGETS.map((t) => [t, summary(table[t])])) as Record<
        Target,
        ReturnType<typeof summary>
      >;
    const oneAtATime = per(serial);
    const inFlight = per(concurrent);
    // Each ratio per round (its two figures measured moments apart), then the median.
    const ratio = (f: (r: number) => number) => Array.from({ length: RUNS }, (_, r) => round(f(r), 3));
    const p99Ratios = ratio((r) => serial.command[r]!.p99 / serial.durable[r]!.p99);
    const tputRatios = ratio((r) => concurrent.command[r]!.perSec / concurrent.durable[r]!.perSec);
    const p99Ratio = round(median(p99Ratios), 3);
    const tputRatio = round(median(tputRatios), 3);
    const errors = TARGETS.reduce((a, t) => a + oneAtATime[t].errors + inFlight[t].errors, 0);
    // A worker that went OFFLINE would have answered (c) with errors: none should have.
    const listed = await ws.workers.list({ limit: IN_FLIGHT });
    const offline = listed.workers.filter((w) => w.status === 'OFFLINE').length;

    const rows = TARGETS.map((t) => {
      const [s, c] = [oneAtATime[t], inFlight[t]];
      return [
        t,
        s.p50Ms.toFixed(3),
        s.p99Ms.toFixed(3),
        String(s.serverCpuUsPerReq),
        String(c.perSec),
        c.p99Ms.toFixed(2),
        String(c.serverCpuUsPerReq),
      ];
    });
    const head = ['', 'p50 ms', 'p99 ms', 'CPU µs', `${IN_FLIGHT} in flight /s`, 'p99 ms', 'CPU µs'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
    process.stderr.write(
      [
        '',
        `  NATS (${mode}), median of ${RUNS}; one at a time: ${SERIAL_N} samples; CPU = server process per request`,
        `  ${line(head)}`,
        ...rows.map((r) => `  ${line(r)}`),
        `  command ÷ durable: p99 one at a time ${p99Ratio} (runs ${p99Ratios.join(', ')}; target ≤ 1.5), ` +
          `throughput at ${IN_FLIGHT} ${tputRatio} (runs ${tputRatios.join(', ')}; target ≥ 0.6); errors ${errors}`,
        '',
      ].join('\n'),
    );

    report({
      bench: 'nats',
      mode,
      serialSamples: SERIAL_N,
      seconds: SECONDS,
      inFlight: IN_FLIGHT,
      runs: RUNS,
      clients: 'a child process (one NATS connection, 64 loops); servers in this process',
      oneAtATime,
      concurrent: inFlight,
      p99CommandOverDurable: p99Ratio,
      p99CommandOverDurableRuns: p99Ratios,
      throughputCommandOverDurable: tputRatio,
      throughputCommandOverDurableRuns: tputRatios,
      errors,
      offlineWorkers: offline,
      load: TARGETS.flatMap((t) => [...serial[t], ...concurrent[t]].map((s) => s.load)),
      targets: [
        {
          metric: 'command over NATS ÷ durable echo: p99 one at a time',
          value: p99Ratio,
          target: '≤ 1.5',
          met: p99Ratio <= 1.5,
        },
        {
          metric: `command over NATS ÷ durable echo: throughput, ${IN_FLIGHT} in flight`,
          value: tputRatio,
          target: '≥ 0.6',
          met: tputRatio >= 0.6,
        },
        { metric: 'no errors', value: errors === 0, target: 'yes', met: errors === 0 },
      ],
    });
    if (errors > 0) process.exitCode = 1;
  } finally {
    client.stop();
    await nc.close();
    await root.close();
    await node.close();
    await ns.stop();
    dataDir.remove();
    echoDir.remove();
  }
}
