/**
 * Issue 16's transition and snapshot under load, beside the routes they are measured against, over HTTP with
 * `WF_CONNECTIONS` connections (default 8), `HTTP_SECONDS` s per measurement (default 10), no pipelining, rate
 * limit off. This process serves; the load comes from bench/workflow-cannon.ts in a child process.
 *
 * - `submit`: `POST /api/jobs` `{"title":"bench"}`, a durable submit;
 * - `transition`: `POST /api/v1/tasks/transition` on a workflow without gates (`pingpong`: A ⇄ B). Each connection
 *   works its own claimed job with its phase token, moving A → B → A …, taking the token of each answer; before
 *   each round every job's token is refreshed (a move in flight when the previous round stopped may have landed
 *   unanswered);
 * - `get`: `GET /api/jobs/{id}` of those jobs (an API token with jobs:read), one job per connection;
 * - `snapshot`: `GET /api/v1/state/snapshot` with each job's check token, one job per connection.
 *
 * After a warm-up of each, `RUNS` rounds (default 3) measure submit, transition, get and snapshot in turn, so each
 * pair sees the same machine load. Reports per round transition ÷ submit (req/s), transition p99 ÷ submit p99 and
 * snapshot ÷ get (req/s), their medians with min–max, and the absolute figures.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createToken } from '../src/api/auth.ts';
import { localCaller } from '../src/api/command-caller.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { createOverseer } from '../src/index.ts';
import { benchArgs, load1, medianOfRounds, progress, report, round, size, spread, tempDir } from './lib.ts';
import type { CannonResult, CannonSpec } from './workflow-cannon.ts';

const { mode } = benchArgs();
const CONNECTIONS = size('WF_CONNECTIONS', 8, 8);
const SECONDS = size('HTTP_SECONDS', 10, 2);
const WARMUP_SECONDS = size('HTTP_WARMUP_SECONDS', 2, 1);
const RUNS = size('RUNS', 3, 3);
const CANNON = fileURLToPath(new URL('./workflow-cannon.ts', import.meta.url));
const WS = 'bench';

/** Two phases with gateless moves both ways (and a way out, as every workflow needs a final phase). */
const PINGPONG = `name: pingpong
version: 1
phases:
  - id: A
  - id: B
  - id: DONE
    final: true
transitions:
  - from: A
    to: B
  - from: B
    to: A
  - from: B
    to: DONE
`;

const dir = tempDir();
const secret = new TextEncoder().encode('overseer-bench-secret-of-at-least-32-bytes!');
const ov = await createOverseer({
  dataDir: dir.path,
  durability: mode,
  logLevel: 'silent',
  tokenSecret: secret,
  heartbeatTimeoutSeconds: 86_400,
});
const app = buildHttpServer({
  caller: localCaller(ov.runtime.dispatch, ov.runtime.authenticator),
  logger: ov.runtime.log,
  rateLimit: { perSecond: 0, burst: 0 },
  ready: () => true,
  openapi: () => ({}),
  metrics: { sample: () => ({ workspaces: [] }) },
});

/** Runs the load generator in a child process. */
async function cannon(spec: CannonSpec): Promise<CannonResult> {
  const file = join(dir.path, `cannon-${spec.kind}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const child = spawn(process.execPath, ['--import', 'tsx', CANNON, file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`workflow-cannon exited with ${String(code)}: ${err}`);
  return JSON.parse(out) as CannonResult;
}

try {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const ws = ov.workspace(WS);
  await ws.workflows.put({ yaml: PINGPONG });
  const slots: (CannonSpec['slots'][number] & { credential: string })[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    await ws.jobs.submit({ title: `pingpong ${i}`, workflow: 'pingpong', leaseSeconds: 24 * 3600 });
    const worker = await ws.workers.register({ name: `agent-${i}` });
    const claim = await ws.queue.claim({ workerId: worker.id });
    if (!claim.job || !claim.phaseToken || !claim.checkToken)
      throw new Error(`claim ${i} answered no workflow job with tokens`);
    slots.push({
      jobId: claim.job.id,
      checkToken: claim.checkToken.token,
      phaseToken: claim.phaseToken.token,
      phase: 'A',
      credential: worker.credential.token,
    });
  }
  const apiToken = await createToken(
    { secret },
    { sub: 'bench', workspaceId: WS, scopes: ['jobs:read', 'jobs:write'], ttlSeconds: 3600 },
  );

  /** Each job's phase token for its current phase, through `POST /api/v1/tokens/refresh` with its worker's credential. */
  const refreshTokens = async () => {
    for (const s of slots) {
      const res = await fetch(`${base}/api/v1/tokens/refresh`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.credential}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jobId: s.jobId }),
      });
      const body = (await res.json()) as { phase: 'A' | 'B'; phaseToken: { token: string } };
      if (res.status !== 200)
        throw new Error(`tokens.refresh answered ${res.status}: ${JSON.stringify(body)}`);
      s.phase = body.phase;
      s.phaseToken = body.phaseToken.token;
    }
  };

  const kinds = ['submit', 'transition', 'get', 'snapshot'] as const;
  type Kind = (typeof kinds)[number];
  const only = process.env.BENCH_WF_ONLY?.split(',');
  const names = kinds.filter((k) => !only || only.includes(k));
  const measure = async (kind: Kind, seconds: number) => {
    if (kind === 'transition') await refreshTokens();
    ov.runtime.host.passivate(Infinity);
    const spec: CannonSpec = {
      kind,
      base,
      connections: CONNECTIONS,
      seconds,
      apiToken,
      slots: slots.map(({ jobId, checkToken, phaseToken, phase }) => ({
        jobId,
        checkToken,
        phaseToken,
        phase,
      })),
    };
    const c0 = process.cpuUsage();
    const c = await cannon(spec);
    const cpu = process.cpuUsage(c0);
    return { ...c, serverCpuUs: c.total > 0 ? (cpu.user + cpu.system) / c.total : NaN };
  };

  for (const kind of names) await measure(kind, WARMUP_SECONDS);
  type Measured = CannonResult & { serverCpuUs: number };
  const results: Record<Kind, Measured[]> = { submit: [], transition: [], get: [], snapshot: [] };
  const loads: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    for (const kind of names) {
      const c = await measure(kind, SECONDS);
      results[kind].push(c);
      loads.push(load1());
      progress(
        `workflow ${mode} run ${r + 1}/${RUNS} ${kind}: ${Math.round(c.reqPerSec)} req/s, p50 ${c.p50} ms, ` +
          `p99 ${c.p99} ms, ${c.non2xx} non-2xx, ${c.errors} errors, ${c.refused} refused, ${Math.round(c.serverCpuUs)} µs server CPU/req (load ${load1()})` +
          (c.firstBad ? ` first bad: ${c.firstBad}` : ''),
      );
    }
  }

  const summary = (kind: Kind) => {
    const rs = results[kind];
    return {
      ...medianOfRounds(rs),
      bad: rs.reduce((a, c) => a + c.non2xx + c.errors + c.timeouts + c.refused, 0),
      spread: { reqPerSec: spread(rs.map((c) => c.reqPerSec)), p99Ms: spread(rs.map((c) => c.p99)) },
    };
  };
  const figures = Object.fromEntries(names.map((k) => [k, summary(k)])) as Record<
    Kind,
    ReturnType<typeof summary>
  >;
  /** Per round a ÷ b of `pick`, then their spread. */
  const ratio = (a: Kind, b: Kind, pick: (c: CannonResult) => number) =>
    spread(results[a].map((c, i) => pick(c) / pick(results[b][i]!)));
  const transitionOverSubmit = ratio('transition', 'submit', (c) => c.reqPerSec);
  const transitionP99OverSubmitP99 = ratio('transition', 'submit', (c) => c.p99);
  const snapshotOverGet = ratio('snapshot', 'get', (c) => c.reqPerSec);
  const clean = names.every((k) => figures[k].bad === 0);
  const range = (s: { min: number; max: number }, digits = 0) =>
    `${round(s.min, digits).toLocaleString('en')}–${round(s.max, digits).toLocaleString('en')}`;
  const label: Record<Kind, string> = {
    submit: 'POST /api/jobs',
    transition: 'POST /api/v1/tasks/transition (no gate)',
    get: 'GET /api/jobs/{id}',
    snapshot: 'GET /api/v1/state/snapshot',
  };

  report({
    bench: 'workflow',
    mode,
    connections: CONNECTIONS,
    seconds: SECONDS,
    runs: RUNS,
    ...figures,
    transitionOverSubmit,
    transitionP99OverSubmitP99,
    snapshotOverGet,
    load: loads,
    rows: names.flatMap((k) => [
      {
        metric: `${label[k]}, ${CONNECTIONS} connections`,
        value: figures[k].reqPerSec,
        unit: 'req/s',
        range: range(figures[k].spread.reqPerSec),
      },
      { metric: `${label[k]}: p50`, value: figures[k].p50Ms, unit: 'ms' },
      { metric: `${label[k]}: server CPU per request`, value: figures[k].serverCpuUsPerReq, unit: 'µs' },
      {
        metric: `${label[k]}: p99`,
        value: figures[k].p99Ms,
        unit: 'ms',
        range: range(figures[k].spread.p99Ms, 2),
      },
    ]),
    targets: [
      {
        metric: `transition req/s ÷ POST /api/jobs req/s (${range(transitionOverSubmit, 3)})`,
        value: transitionOverSubmit.median,
        target: '≥ 0.70',
        met: transitionOverSubmit.median >= 0.7,
      },
      {
        metric: `transition p99 ÷ POST /api/jobs p99 (${range(transitionP99OverSubmitP99, 3)})`,
        value: transitionP99OverSubmitP99.median,
        target: '≤ 2',
        met: transitionP99OverSubmitP99.median <= 2,
      },
      {
        metric: `snapshot req/s ÷ GET /api/jobs/{id} req/s (${range(snapshotOverGet, 3)})`,
        value: snapshotOverGet.median,
        target: '≥ 0.50',
        met: snapshotOverGet.median >= 0.5,
      },
      { metric: 'no errors, no refused move', value: clean, target: 'yes', met: clean },
    ],
  });
} finally {
  await app.close();
  await ov.close();
  dir.remove();
}
