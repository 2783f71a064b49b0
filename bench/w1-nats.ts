/**
 * W1 with the consumers claiming over NATS (issue 6, "Proof and figures"): this process runs a data node
 * (`serve({ nats, port: 0, dataDir, logLevel: 'silent', durability })`, as `overseer serve --nats` runs) against a
 * nats-server of the benchmark's own (`startNatsServer`, a random port, never 4222); `W1_NATS_PROCS` consumer
 * processes (default 8, bench/w1-nats-consumer.ts, forked with tsx) speak plain NATS to it.
 *
 * Per variant, `W1_NATS_N` jobs (default 20,000; priorities 20/60/20 high/normal/low, shuffled with a seeded PRNG,
 * as in bench/w1.ts) are submitted first (`submitMany` of 1,000 in this process, two calls in flight), fresh
 * workers are registered over NATS, every actor is passivated, then the drain is timed, from the parent's "drain"
 * to the last process's "done": every worker loops claim → complete with `claimNext: true` until the queue is empty.
 *
 * - `serial`: each process one worker, looping one request at a time (8 requests in flight in all);
 * - `inFlight`: each process 8 workers, 8 loops at once (64 requests in flight in all).
 *
 * Each of `RUNS` runs (default 3) uses a fresh data node in a fresh data dir, warmed up first (a small drain with
 * one worker per process, not measured), and checks at its end that every job submitted is COMPLETED, the queue
 * empty, and that the processes acknowledged exactly one complete per job (no duplicate completions). Reports the
 * medians, with the CPU time per job of the data node's process and of the consumer processes together (the nine
 * processes and nats-server share the machine's cores); targets are for mode 'flush'.
 */
import { createToken } from '../src/api/auth.ts';
import { serve, type RunningServer } from '../src/cli/serve.ts';
import { startNatsServer } from '../src/testing.ts';
import { startChild } from './child.ts';
import { CompletionLedger, enqueueW1, everyJobOnce } from './w1-workload.ts';
import { benchArgs, load1, progress, report, round, script, size, spread, tempDir } from './lib.ts';

const { mode } = benchArgs();
const N = size('W1_NATS_N', 20_000, 2_000);
const PROCS = size('W1_NATS_PROCS', 8, 8);
const PER_PROC = size('W1_NATS_IN_FLIGHT', 8, 8);
const WARMUP = size('W1_NATS_WARMUP', 2_000, 400);
const RUNS = size('RUNS', 3, 1);
const BATCH = 1_000;
const WS = 'bench';
const SECRET_TEXT = 'overseer-bench-secret-of-at-least-32-bytes!';

const VARIANTS = [
  { name: 'serial', workersPerProc: 1 },
  { name: 'inFlight', workersPerProc: PER_PROC },
] as const;
type Variant = (typeof VARIANTS)[number]['name'];

interface Answer {
  id: number;
  error?: string;
  workers?: string[];
  completed?: string[];
  errors?: number;
  cpuUs?: number;
  firstError?: string;
}

/** A consumer process and a way to ask it something. */
interface Consumer {
  ask(msg: { type: 'register'; count: number } | { type: 'drain' }): Promise<Answer>;
  stop(): void;
}

function startConsumer(i: number, url: string, token: string): Promise<Consumer> {
  return startChild(`consumer ${i}`, script('w1-nats-consumer'), [], {
    W1_NATS_URL: url,
    W1_NATS_TOKEN: token,
    W1_NATS_WS: WS,
    W1_NATS_NAME: `w1-nats-${i}`,
  });
}

/** What a drain measured: jobs/s, and CPU µs per job of the data node's process and of the consumers together. */
interface Drained {
  perSec: number;
  nodeCpuUsPerJob: number;
  consumersCpuUsPerJob: number;
}

/** Registers `perProc` fresh workers in every process, then times the drain. */
async function drain(
  node: RunningServer,
  consumers: Consumer[],
  perProc: number,
  ledger: CompletionLedger,
): Promise<Drained> {
  await Promise.all(consumers.map((c) => c.ask({ type: 'register', count: perProc })));
  const host = node.ov!.runtime.host;
  await host.pipeline.idle();
  host.passivate(Infinity);
  const before = ledger.count;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const answers = await Promise.all(consumers.map((c) => c.ask({ type: 'drain' })));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  let consumersCpuUs = 0;
  for (const a of answers) {
    ledger.record(...(a.completed ?? []));
    ledger.errors += a.errors ?? 0;
    consumersCpuUs += a.cpuUs ?? 0;
    if (a.firstError) progress(`w1-nats: a consumer failed: ${a.firstError}`);
  }
  const jobs = ledger.count - before;
  return {
    perSec: jobs / seconds,
    nodeCpuUsPerJob: (cpu.user + cpu.system) / Math.max(1, jobs),
    consumersCpuUsPerJob: consumersCpuUs / Math.max(1, jobs),
  };
}

interface Run {
  drain: Record<Variant, Drained>;
  enqueuePerSec: number;
  exactlyOnce: boolean;
  errors: number;
  load: number;
}

async function run(r: number, natsUrl: string, consumers: Consumer[]): Promise<Run> {
  const dir = tempDir();
  const node = await serve(
    { host: '127.0.0.1', port: 0, dataDir: dir.path, logLevel: 'silent', nats: natsUrl, durability: mode },
    () => undefined,
  );
  try {
    const ws = node.ov!.workspace(WS);
    const host = node.ov!.runtime.host;
    const ledger = new CompletionLedger();
    let submitted = 0;

    await enqueueW1(ws, WARMUP, 7, BATCH);
    submitted += WARMUP;
    await drain(node, consumers, 1, ledger);

    const rates = {} as Record<Variant, Drained>;
    const enqueueRates: number[] = [];
    for (const [i, v] of VARIANTS.entries()) {
      host.passivate(Infinity);
      enqueueRates.push(await enqueueW1(ws, N, 42 + i, BATCH));
      submitted += N;
      rates[v.name] = await drain(node, consumers, v.workersPerProc, ledger);
      progress(
        `w1-nats ${mode} run ${r + 1}/${RUNS}: ${consumers.length} processes × ${v.workersPerProc} in flight: ` +
          `${Math.round(rates[v.name].perSec)} jobs/s, CPU per job ${Math.round(rates[v.name].nodeCpuUsPerJob)} µs ` +
          `data node + ${Math.round(rates[v.name].consumersCpuUsPerJob)} µs consumers ` +
          `(enqueue ${Math.round(enqueueRates.at(-1)!)} jobs/s, load ${load1()})`,
      );
    }

    const exactlyOnce = await everyJobOnce(ws, submitted, ledger, `w1-nats ${mode}`);
    return {
      drain: rates,
      enqueuePerSec: enqueueRates.reduce((a, b) => a + b, 0) / enqueueRates.length,
      exactlyOnce,
      errors: ledger.errors,
      load: load1(),
    };
  } finally {
    await node.close();
    dir.remove();
  }
}

const ns = await startNatsServer();
process.env['OVERSEER_JWT_SECRET'] = SECRET_TEXT;
const token = await createToken(
  { secret: new TextEncoder().encode(SECRET_TEXT) },
  { sub: 'w1-nats', workspaceId: WS, scopes: ['queue:work'], ttlSeconds: 24 * 3600 },
);
const consumers: Consumer[] = [];
const runs: Run[] = [];
try {
  // The processes start together (their start-up is not measured) and outlive the data nodes of the runs.
  consumers.push(
    ...(await Promise.all(Array.from({ length: PROCS }, (_, i) => startConsumer(i, ns.url, token)))),
  );
  for (let r = 0; r < RUNS; r++) runs.push(await run(r, ns.url, consumers));
} finally {
  for (const c of consumers) c.stop();
  await ns.stop();
}

const drainSpread = Object.fromEntries(
  VARIANTS.map((v) => [v.name, spread(runs.map((r) => r.drain[v.name].perSec))]),
) as Record<Variant, ReturnType<typeof spread>>;
/** Median CPU µs per job of the data node and of the consumer processes, per variant. */
const cpuPerJob = Object.fromEntries(
  VARIANTS.map((v) => [
    v.name,
    {
      dataNode: round(spread(runs.map((r) => r.drain[v.name].nodeCpuUsPerJob)).median, 0),
      consumers: round(spread(runs.map((r) => r.drain[v.name].consumersCpuUsPerJob)).median, 0),
    },
  ]),
) as Record<Variant, { dataNode: number; consumers: number }>;
const exactlyOnce = runs.every((r) => r.exactlyOnce);
const errors = runs.reduce((a, r) => a + r.errors, 0);
const serialPerSec = drainSpread.serial.median;
const inFlightPerSec = drainSpread.inFlight.median;
const throughputTargets =
  mode === 'flush'
    ? [
        {
          metric: `W1 over NATS, ${PROCS} processes one request at a time (jobs/s)`,
          value: round(serialPerSec, 0),
          target: '≥ 2,000/s',
          met: serialPerSec >= 2_000,
        },
        {
          metric: `W1 over NATS, ${PROCS} processes × ${PER_PROC} claims in flight (jobs/s)`,
          value: round(inFlightPerSec, 0),
          target: '≥ 6,500/s',
          met: inFlightPerSec >= 6_500,
        },
      ]
    : [];

process.stderr.write(
  [
    '',
    `  W1 over NATS (${mode}), ${N.toLocaleString('en')} jobs per drain, median of ${RUNS}:`,
    `    ${PROCS} processes × 1 in flight: ${Math.round(serialPerSec).toLocaleString('en')} jobs/s ` +
      `(runs ${drainSpread.serial.runs.map((x) => Math.round(x)).join(', ')}); CPU per job ` +
      `${cpuPerJob.serial.dataNode} µs data node + ${cpuPerJob.serial.consumers} µs consumers`,
    `    ${PROCS} processes × ${PER_PROC} in flight: ${Math.round(inFlightPerSec).toLocaleString('en')} jobs/s ` +
      `(runs ${drainSpread.inFlight.runs.map((x) => Math.round(x)).join(', ')}); CPU per job ` +
      `${cpuPerJob.inFlight.dataNode} µs data node + ${cpuPerJob.inFlight.consumers} µs consumers`,
    `    every job COMPLETED exactly once: ${exactlyOnce ? 'yes' : 'NO'}; errors ${errors}; ` +
      `load ${runs.map((r) => r.load).join(', ')}`,
    '',
  ].join('\n'),
);

report({
  bench: 'w1-nats',
  mode,
  jobs: N,
  processes: PROCS,
  inFlightPerProcess: PER_PROC,
  runs: RUNS,
  drainPerSec: { serial: round(serialPerSec, 0), inFlight: round(inFlightPerSec, 0) },
  cpuUsPerJob: cpuPerJob,
  enqueuePerSec: round(spread(runs.map((r) => r.enqueuePerSec)).median, 0),
  exactlyOnce,
  errors,
  load: runs.map((r) => r.load),
  targets: [
    ...throughputTargets,
    {
      metric: 'every job COMPLETED exactly once, no errors',
      value: exactlyOnce && errors === 0,
      target: 'yes',
      met: exactlyOnce && errors === 0,
    },
  ],
  spread: { drain: drainSpread },
});
if (!exactlyOnce || errors > 0) process.exitCode = 1;
