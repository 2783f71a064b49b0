/**
 * The load generator of bench/workflow.ts, in a child process of its own so it never shares the server's event
 * loop: autocannon's API (not its CLI), because each connection works a job of its own and a transition's answer
 * carries the token of the next request.
 *
 *   node bench/workflow-cannon.ts <spec.json>   (prints autocannon's summary and the answers seen, as JSON)
 *
 * Connection i takes slot i of `slots`: its job (for `GET /api/jobs/{id}`), its check token (for the snapshot), or
 * its phase token and phase (for the transition, moving A → B → A …, taking the token of each answer). autocannon
 * resets a connection's request context before each request (it loops over a one-request list), so the slot's
 * index is that context's initial value, set per connection in `setupClient`, and the slot's state lives here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** What the parent asks for. */
export interface CannonSpec {
  kind: 'submit' | 'get' | 'snapshot' | 'transition';
  base: string;
  connections: number;
  seconds: number;
  /** An API token with jobs:read and jobs:write (submit, get). */
  apiToken: string;
  slots: { jobId: string; checkToken: string; phaseToken: string; phase: 'A' | 'B' }[];
}

/** What the child answers. */
export interface CannonResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  total: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Transition answers with `allowed: false` (every move here has no gate, so any is a failure). */
  refused: number;
  /** The first non-2xx answer's body, to say why. */
  firstBad?: string;
}

/** A connection's request context: the index of its slot (absent while autocannon builds its first request). */
interface Slot {
  slot?: number;
}

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as CannonSpec;
const state = spec.slots.map((s) => ({ ...s }));
let nextSlot = 0;
let refused = 0;
let firstBad: string | undefined;
const take = (ctx: Slot) => state[(ctx.slot ?? 0) % state.length]!;
const other = (phase: 'A' | 'B') => (phase === 'A' ? 'B' : 'A');

type Req = { method?: string; path?: string; headers?: Record<string, string>; body?: string };
const requests: {
  setupRequest: (req: Req, ctx: Slot) => Req;
  onResponse?: (status: number, body: string, ctx: Slot) => void;
}[] = [];
const api = { authorization: `Bearer ${spec.apiToken}` };
switch (spec.kind) {
  case 'submit':
    requests.push({
      setupRequest: (req) => ({
        ...req,
        method: 'POST',
        path: '/api/jobs',
        headers: { ...api, 'content-type': 'application/json' },
        body: '{"title":"bench"}',
      }),
    });
    break;
  case 'get':
    requests.push({
      setupRequest: (req, ctx) => ({
        ...req,
        method: 'GET',
        path: `/api/jobs/${take(ctx).jobId}`,
        headers: api,
      }),
    });
    break;
  case 'snapshot':
    requests.push({
      setupRequest: (req, ctx) => ({
        ...req,
        method: 'GET',
        path: '/api/v1/state/snapshot',
        headers: { authorization: `Bearer ${take(ctx).checkToken}` },
      }),
    });
    break;
  case 'transition':
    requests.push({
      setupRequest: (req, ctx) => {
        const s = take(ctx);
        return {
          ...req,
          method: 'POST',
          path: '/api/v1/tasks/transition',
          headers: { authorization: `Bearer ${s.phaseToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ currentPhase: s.phase, targetPhase: other(s.phase) }),
        };
      },
      onResponse: (status, body, ctx) => {
        if (status !== 200) {
          firstBad ??= `${status} ${body}`;
          return;
        }
        const answer = JSON.parse(body) as {
          allowed: boolean;
          phase?: 'A' | 'B';
          phaseToken?: { token: string };
        };
        if (!answer.allowed || !answer.phase || !answer.phaseToken) {
          refused++;
          firstBad ??= body;
          return;
        }
        const s = take(ctx);
        s.phase = answer.phase;
        s.phaseToken = answer.phaseToken.token;
      },
    });
    break;
}

/** The part of autocannon's client used here: its request iterator (internal, stable since autocannon 7). */
interface AutocannonClient {
  requestIterator: { initialContext: Slot; resetContext(): void; rebuildRequest(): void };
}
/** The part of autocannon's API used here (the package ships no types). */
type Autocannon = (opts: {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  requests: typeof requests;
  setupClient: (client: AutocannonClient) => void;
}) => Promise<{
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const r = await autocannon({
  url: spec.base,
  connections: spec.connections,
  pipelining: 1,
  duration: spec.seconds,
  requests,
  setupClient: (client) => {
    client.requestIterator.initialContext = { slot: nextSlot++ };
    client.requestIterator.resetContext();
    client.requestIterator.rebuildRequest();
  },
});
const result: CannonResult = {
  reqPerSec: r.requests.average,
  p50: r.latency.p50,
  p99: r.latency.p99,
  total: r.requests.total,
  ok: r['2xx'],
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
  refused,
  ...(firstBad !== undefined ? { firstBad: firstBad.slice(0, 500) } : {}),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
