/**
 * The HTTP API under load (run in mode 'flush'): this process serves, autocannon runs in a child process (its CLI,
 * `node node_modules/autocannon/autocannon.js`), so the load generator never shares the server's event loop; both
 * still share the machine's cores. `HTTP_CONNECTIONS` connections (default 50) for `HTTP_SECONDS` s (default 10)
 * per measurement, no pipelining, rate limit off:
 *
 * - (a) `read`: `GET /api/supervisor/workers`, authenticated (a token with supervisor:read), 20 workers registered;
 * - (b) `submit`: `POST /api/jobs` with `{"title":"bench"}`, authenticated (jobs:write), each a durable submit;
 * - (c) `bare`: `fastify().get('/bare', () => ({ ok: true }))`, a second Fastify instance in this same process
 *   (same node, same tsx loader, same autocannon child and flags), idle Overseer beside it.
 *
 * After a 2 s warm-up of each, `RUNS` rounds (default 3) measure bare, read and submit in turn, so each sees the
 * same machine load; reports the medians of req/s, p50 and p99 (autocannon's figures, ms) and the ratio (a)/(c).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { createToken } from '../src/api/auth.ts';
import { localCaller } from '../src/api/command-caller.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { createOverseer } from '../src/index.ts';
import {
  benchArgs,
  load1,
  median,
  medianOfRounds,
  progress,
  report,
  round,
  size,
  spread,
  tempDir,
} from './lib.ts';

const { mode } = benchArgs();
const CONNECTIONS = size('HTTP_CONNECTIONS', 50, 50);
const SECONDS = size('HTTP_SECONDS', 10, 2);
const WARMUP_SECONDS = size('HTTP_WARMUP_SECONDS', 2, 1);
const RUNS = size('RUNS', 3, 1);
const WORKERS = 20;
const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));

interface Cannon {
  reqPerSec: number;
  p50: number;
  p99: number;
  total: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU time of this (the server's) process per request, µs: every thread, LMDB's included. */
  serverCpuUs: number;
}

/** Runs autocannon's CLI in a child process against `url`; answers its JSON summary. */
async function cannon(
  url: string,
  seconds: number,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Cannon> {
  const args = [AUTOCANNON, '-j', '-n', '-c', String(CONNECTIONS), '-p', '1', '-d', String(seconds)];
  if (opts.method) args.push('-m', opts.method);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}=${v}`);
  if (opts.body !== undefined) args.push('-b', opts.body);
  args.push(url);
  const c0 = process.cpuUsage();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const cpu = process.cpuUsage(c0);
  if (code !== 0) throw new Error(`autocannon exited with ${String(code)}: ${err}`);
  const r = JSON.parse(out) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
    '2xx': number;
  };
  return {
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    serverCpuUs: r.requests.total > 0 ? (cpu.user + cpu.system) / r.requests.total : NaN,
  };
}

const dir = tempDir();
const secret = new TextEncoder().encode('overseer-bench-secret-of-at-least-32-bytes!');
const ov = await createOverseer({
  dataDir: dir.path,
  durability: mode,
  logLevel: 'silent',
  tokenSecret: secret,
});
const app = buildHttpServer({
  caller: localCaller(ov.runtime.dispatch, ov.runtime.authenticator),
  logger: ov.runtime.log,
  rateLimit: { perSecond: 0, burst: 0 },
  ready: () => true,
  openapi: () => ({}),
  metrics: { sample: () => ({ workspaces: [] }) },
});
const bare = Fastify();
bare.get('/bare', () => ({ ok: true }));

try {
  await app.listen({ host: '127.0.0.1', port: 0 });
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const port = (server: { address(): unknown }) => (server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port(app.server)}`;
  const bareUrl = `http://127.0.0.1:${port(bare.server)}/bare`;

  const ws = ov.workspace('bench');
  for (let i = 0; i < WORKERS; i++)
    await ws.workers.register({ name: `http-worker-${i}`, capabilities: ['ts'] });
  const token = await createToken(
    { secret },
    { sub: 'bench', workspaceId: 'bench', scopes: ['supervisor:read', 'jobs:write'], ttlSeconds: 3600 },
  );
  const auth = { authorization: `Bearer ${token}` };
  const probe = await fetch(`${base}/api/supervisor/workers`, { headers: auth });
  const listed = ((await probe.json()) as { workers: unknown[] }).workers.length;
  if (probe.status !== 200 || listed !== WORKERS)
    throw new Error(`GET /api/supervisor/workers answered ${probe.status} with ${listed} workers`);

  const targets = {
    bare: (s: number) => cannon(bareUrl, s),
    read: (s: number) => cannon(`${base}/api/supervisor/workers`, s, { headers: auth }),
    submit: (s: number) =>
      cannon(`${base}/api/jobs`, s, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"title":"bench"}',
      }),
  };
  type Name = keyof typeof targets;
  // `BENCH_HTTP_ONLY=read` (comma-separated) measures only some, e.g. under --cpu-prof.
  const only = process.env.BENCH_HTTP_ONLY?.split(',');
  const names = (['bare', 'read', 'submit'] as const).filter((n) => !only || only.includes(n));

  let submitted = 0;
  for (const name of names) {
    const w = await targets[name](WARMUP_SECONDS);
    if (name === 'submit') submitted += w.ok;
  }
  const results: Record<Name, Cannon[]> = { bare: [], read: [], submit: [] };
  const loads: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    for (const name of names) {
      ov.runtime.host.passivate(Infinity);
      const c = await targets[name](SECONDS);
      if (name === 'submit') submitted += c.ok;
      results[name].push(c);
      loads.push(load1());
      progress(
        `http ${mode} run ${r + 1}/${RUNS} ${name}: ${Math.round(c.reqPerSec)} req/s, p50 ${c.p50} ms, ` +
          `p99 ${c.p99} ms, ${c.non2xx} non-2xx, ${c.errors} errors, ${Math.round(c.serverCpuUs)} µs server CPU/req ` +
          `(load ${load1()})`,
      );
    }
  }
  const stats = await ws.queue.stats();
  const queued = stats.jobs['QUEUED'] ?? 0;
  // autocannon stops with up to one request per connection in flight: those are served but not counted.
  const inFlightAtStop = CONNECTIONS * (1 + RUNS);
  const submitsDurable = queued >= submitted && queued <= submitted + inFlightAtStop;
  if (!submitsDurable) progress(`http: ${submitted} submits answered 201 but ${queued} jobs QUEUED`);

  const summary = (name: Name) => {
    const rs = results[name];
    return {
      ...medianOfRounds(rs),
      non2xx: rs.reduce((a, c) => a + c.non2xx, 0),
      errors: rs.reduce((a, c) => a + c.errors + c.timeouts, 0),
      spread: {
        reqPerSec: spread(rs.map((c) => c.reqPerSec)),
        p50Ms: spread(rs.map((c) => c.p50)),
        p99Ms: spread(rs.map((c) => c.p99)),
      },
    };
  };
  const read = summary('read');
  const submit = summary('submit');
  const bareSummary = summary('bare');
  // The ratio per round (bare and read measured back to back), then its median.
  const ratios = results.read.map((c, i) => c.reqPerSec / (results.bare[i]?.reqPerSec ?? NaN));
  const readOverBare = ratios.length > 0 ? round(median(ratios), 3) : NaN;
  const clean = [read, submit, bareSummary].every((s) => s.non2xx === 0 && s.errors === 0);

  report({
    bench: 'http',
    mode,
    connections: CONNECTIONS,
    seconds: SECONDS,
    runs: RUNS,
    bareRoute: 'a second Fastify instance in the server process; autocannon in a child process for all three',
    read,
    submit,
    bare: bareSummary,
    readOverBare,
    readOverBareRuns: ratios.map((x) => round(x, 3)),
    submitsDurable,
    load: loads,
    targets: [
      {
        metric: 'GET /api/supervisor/workers req/s ÷ bare route req/s',
        value: readOverBare,
        target: '≥ 0.5',
        met: readOverBare >= 0.5,
      },
      {
        metric: 'GET /api/supervisor/workers p99 (ms)',
        value: read.p99Ms,
        target: '≤ 5 ms',
        met: read.p99Ms <= 5,
      },
      {
        metric: 'POST /api/jobs (durable) req/s',
        value: submit.reqPerSec,
        target: '≥ 5,000/s',
        met: submit.reqPerSec >= 5_000,
      },
      { metric: 'POST /api/jobs p99 (ms)', value: submit.p99Ms, target: '≤ 20 ms', met: submit.p99Ms <= 20 },
      {
        metric: 'no errors, every 201 a QUEUED job',
        value: clean && submitsDurable,
        target: 'yes',
        met: clean && submitsDurable,
      },
    ],
  });
} finally {
  await bare.close();
  await app.close();
  await ov.close();
  dir.remove();
}
