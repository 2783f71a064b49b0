import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../src/http/routes.ts';
import { serve } from '../../src/cli/serve.ts';
import { HTTP_ROUTES } from '../../src/sdk/http-transport.ts';
import {
  connectAgent,
  OverseerError,
  type Agent,
  type AgentOptions,
  type JournalRecord,
} from '../../src/sdk/index.ts';
import type { RetryInfo } from '../../src/sdk/retry.ts';
import { startNatsServer, tempDataDir, type NatsServer } from '../../src/testing.ts';
import { rejection } from '../support/open.ts';
import { startDataNode, tokenFor, type Node } from '../nats/support.ts';
import { sleep, supervisor, type Supervisor } from './support.ts';

let ns: NatsServer;
let node: Node;
let admin: string;

/** The scopes of an agent that works jobs, spawns children and follows events. */
const WORKER_SCOPES = ['queue:work', 'jobs:write', 'jobs:read'] as const;

beforeAll(async () => {
  ns = await startNatsServer();
  node = await startDataNode(ns.url);
  admin = await tokenFor('sdk-admin', ['admin'], 'supervisor');
});
afterAll(async () => {
  await node?.close();
  await ns?.stop();
});

const transports = [
  { kind: 'http' as const, workspaceId: 'sdk-http' },
  { kind: 'nats' as const, workspaceId: 'sdk-nats' },
];

/** Collects what a stream yields, in the background. */
function collect(stream: AsyncIterable<JournalRecord>): { seen: JournalRecord[]; done: Promise<void> } {
  const seen: JournalRecord[] = [];
  const done = (async () => {
    for await (const record of stream) seen.push(record);
  })();
  return { seen, done };
}

describe.each(transports)('the agent over $kind', ({ kind, workspaceId }) => {
  let agent: Agent;
  let sup: Supervisor;
  let workerToken: string;
  const options = (more: Partial<AgentOptions> = {}): AgentOptions =>
    ({
      workspaceId,
      token: workerToken,
      ...(kind === 'http' ? { http: node.server.url } : { nats: ns.url }),
      ...more,
    }) as AgentOptions;

  beforeAll(async () => {
    workerToken = await tokenFor(workspaceId, [...WORKER_SCOPES], 'agent-1');
    sup = supervisor(node.server.url, workspaceId, admin);
    agent = await connectAgent(options());
  });
  afterAll(async () => {
    await agent?.close();
  });

  it('registers a worker', async () => {
    const worker = await agent.register({ name: 'claude-1', capabilities: ['typescript'] });
    expect(worker).toMatchObject({
      name: 'claude-1',
      status: 'IDLE',
      capabilities: ['typescript'],
      workspaceId,
    });
    expect(agent.worker?.id).toBe(worker.id);
    expect(agent.transportKind).toBe(kind);
    expect((await sup.worker(worker.id)).status).toBe('IDLE');
  });

  it('claims with a wait: a job submitted after the claim started is handed out', async () => {
    const started = Date.now();
    const claiming = agent.claim({ waitMs: 10_000 });
    await sleep(300);
    const job = await sup.submit('Arrives later');
    const claim = await claiming;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(claim?.job).toMatchObject({ id: job.id, status: 'RUNNING' });
    expect(claim?.leaseToken).toMatch(/^\d+$/);
    expect(claim?.leaseExpiresAt).toBeGreaterThan(Date.now());
    expect(claim?.retryCount).toBe(0);

    // Pause, resume and a heartbeat's directive, with the lease extended meanwhile.
    const beat = await agent.heartbeat(claim!.leaseToken);
    expect(beat.directive).toBe('continue');
    expect(beat.leaseExpiresAt).toBeGreaterThanOrEqual(claim!.leaseExpiresAt);
    await sup.post(`/api/supervisor/workers/${agent.worker!.id}/pause`);
    expect((await agent.heartbeat(claim!.leaseToken)).directive).toBe('pause');
    await sup.post(`/api/supervisor/workers/${agent.worker!.id}/resume`);
    expect((await agent.heartbeat(claim!.leaseToken)).directive).toBe('resume');
    expect((await agent.heartbeat(claim!.leaseToken)).directive).toBe('continue');

    // Complete with claimNext: the next job comes in the same answer, then none.
    const second = await sup.submit('Next in line');
    const done = await agent.complete(claim!.job.id, claim!.leaseToken, {
      result: { ok: 1 },
      claimNext: true,
    });
    expect(done.job).toMatchObject({ id: job.id, status: 'COMPLETED' });
    expect(await sup.job(job.id)).toMatchObject({ status: 'COMPLETED', result: { ok: 1 } });
    expect(done.next?.job.id).toBe(second.id);
    const last = await agent.complete(second.id, done.next!.leaseToken, { claimNext: true });
    expect(last.next).toBeNull();
    const plain = await agent.complete(second.id, done.next!.leaseToken).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(OverseerError);
    expect(plain).toMatchObject({ code: 'LEASE_LOST', status: 409 });
  });

  it('answers null when no job comes within waitMs, with a request timeout shorter than the wait', async () => {
    const short = await connectAgent(options({ timeoutMs: 500, retry: { attempts: 1 } }));
    try {
      await short.register({ name: 'waiter', capabilities: ['nothing-has-this'] });
      const started = Date.now();
      expect(await short.claim({ waitMs: 1_500 })).toBeNull();
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    } finally {
      await short.close();
    }
  });

  it('fails a job, final when not retryable', async () => {
    const job = await sup.submit('Doomed');
    const claim = await agent.claim({ waitMs: 2_000 });
    expect(claim?.job.id).toBe(job.id);
    const failed = await agent.fail(job.id, claim!.leaseToken, { reason: 'tests red', retryable: false });
    expect(failed).toEqual({ job: expect.objectContaining({ id: job.id, status: 'FAILED' }) });
  });

  it('answers null to a claim while paused, and terminate once terminated', async () => {
    const other = await connectAgent(options());
    try {
      const worker = await other.register({ name: 'to-terminate' });
      await sup.post(`/api/supervisor/workers/${worker.id}/pause`);
      expect(await other.claim()).toBeNull();
      expect((await other.heartbeat()).directive).toBe('pause');
      await sup.post(`/api/supervisor/workers/${worker.id}/terminate`, { reason: 'test' });
      expect(await other.claim()).toBeNull();
      expect((await other.heartbeat()).directive).toBe('terminate');
    } finally {
      await other.close();
    }
  });

  it('yields the journal in seq order, each record once, old and new', async () => {
    const stream = agent.events({ afterSeq: 0, pollMs: kind === 'http' ? 100 : 60_000, pageSize: 3 });
    const { seen, done } = collect(stream);
    const job = await sup.submit('Followed');
    await expect.poll(() => seen.some((r) => r.id === job.id), { timeout: 5_000 }).toBe(true);
    stream.close();
    await done;
    expect(seen.map((r) => r.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.every((r) => r.workspaceId === workspaceId)).toBe(true);
    expect(seen.find((r) => r.id === agent.worker!.id)).toMatchObject({ kind: 'worker', to: 'IDLE' });

    // From a later seq on: nothing before it.
    const from = seen.at(-2)!.seq;
    const later = agent.events({ afterSeq: from, pollMs: 100 });
    const first = await later[Symbol.asyncIterator]().next();
    later.close();
    expect(first.value).toEqual(seen.at(-1));
  });

  it('applies a call once when it is sent again with the same idempotency key', async () => {
    const a = await agent.submit({ title: 'Only once' }, { idempotencyKey: `once-${kind}` });
    const b = await agent.submit({ title: 'Only once' }, { idempotencyKey: `once-${kind}` });
    expect(b.id).toBe(a.id);
    expect((await sup.jobs()).filter((j) => j.title === 'Only once')).toHaveLength(1);
    const reused = await rejection(agent.submit({ title: 'Other' }, { idempotencyKey: `once-${kind}` }));
    expect(reused.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Without a key of the caller's, every call is a new one.
    const c = await agent.submit({ title: 'Twice' });
    const d = await agent.submit({ title: 'Twice' });
    expect(c.id).not.toBe(d.id);
  });

  it("surfaces the server's errors as OverseerError, without retrying them", async () => {
    const retries: RetryInfo[] = [];
    const bad = await connectAgent(options({ token: 'not-a-jwt', onRetry: (info) => retries.push(info) }));
    try {
      const err = await bad.register({ name: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OverseerError);
      expect(err).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, retryable: false });
    } finally {
      await bad.close();
    }
    const readOnly = await connectAgent(options({ token: await tokenFor(workspaceId, ['jobs:read']) }));
    try {
      expect((await rejection(readOnly.submit({ title: 'x' }))).code).toBe('INSUFFICIENT_SCOPE');
      expect((await rejection(readOnly.heartbeat())).code).toBe('VALIDATION_FAILED');
    } finally {
      await readOnly.close();
    }
    expect(retries).toEqual([]);
  });

  it('refuses calls after close, and ends its event streams', async () => {
    const closing = await connectAgent(options());
    const stream = closing.events({ pollMs: 50 });
    const { done } = collect(stream);
    await closing.close();
    await done;
    const err = await rejection(closing.submit({ title: 'late' }));
    expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', details: { reason: 'closed' } });
  });
});

describe('connectAgent', () => {
  it('refuses a bad workspace id, a missing token and zero or two transports', async () => {
    const base = { workspaceId: 'acme', token: 't' };
    expect((await rejection(connectAgent({ ...base, workspaceId: 'Bad!', http: 'http://x' }))).code).toBe(
      'VALIDATION_FAILED',
    );
    expect((await rejection(connectAgent({ ...base, token: '', http: 'http://x' }))).code).toBe(
      'UNAUTHENTICATED',
    );
    expect((await rejection(connectAgent(base as AgentOptions))).code).toBe('VALIDATION_FAILED');
    expect(
      (await rejection(connectAgent({ ...base, http: 'http://x', nats: ns.url } as unknown as AgentOptions)))
        .code,
    ).toBe('VALIDATION_FAILED');
  });

  it('fails with STORAGE_UNAVAILABLE when nothing answers', async () => {
    const nats = await rejection(
      connectAgent({ workspaceId: 'acme', token: 't', nats: 'nats://127.0.0.1:1' }),
    );
    expect(nats).toMatchObject({ code: 'STORAGE_UNAVAILABLE', details: { reason: 'unreachable' } });
    const http = await connectAgent({
      workspaceId: 'acme',
      token: 't',
      http: 'http://127.0.0.1:1',
      retry: { attempts: 2, baseDelayMs: 10 },
    });
    expect(await rejection(http.register({ name: 'x' }))).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      details: { reason: 'unreachable' },
    });
    await http.close();
  });

  it('sends each command to the REST route src/http/routes.ts gives it', () => {
    for (const [command, route] of Object.entries(HTTP_ROUTES)) {
      const path = route.path.replace(/:\w+/g, ':id');
      expect(
        routes.some((r) => r.command === command && r.method === route.method && r.path === path),
        `${command}: ${route.method} ${route.path}`,
      ).toBe(true);
    }
  });
});

describe('retries', () => {
  it('HTTP: an answer lost after the commit is retried with the same key and applies once', async () => {
    const workspaceId = 'sdk-lost';
    const keys: string[] = [];
    let dropped = 0;
    // A proxy that lets the first submit reach the node, then loses its answer (a 503 instead).
    const target = new URL(node.server.url);
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url?.startsWith('/api/v1/tasks')) keys.push(String(req.headers['idempotency-key']));
        const upstream = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (up) => {
            const body: Buffer[] = [];
            up.on('data', (c: Buffer) => body.push(c));
            up.on('end', () => {
              if (req.url?.startsWith('/api/v1/tasks') && dropped++ === 0) {
                res.writeHead(503, { 'content-type': 'application/json' });
                res.end(
                  JSON.stringify({ error: { code: 'STORAGE_UNAVAILABLE', message: 'lost', details: {} } }),
                );
                return;
              }
              res.writeHead(up.statusCode ?? 500, up.headers);
              res.end(Buffer.concat(body));
            });
          },
        );
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const retries: RetryInfo[] = [];
    const agent = await connectAgent({
      workspaceId,
      token: await tokenFor(workspaceId, ['jobs:write']),
      http: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      onRetry: (info) => retries.push(info),
    });
    try {
      const job = await agent.submit({ title: 'Lost answer' });
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      expect(retries.map((r) => r.error.code)).toEqual(['STORAGE_UNAVAILABLE']);
      const jobs = await supervisor(node.server.url, workspaceId, admin).jobs();
      expect(jobs.map((j) => j.id)).toEqual([job.id]);
    } finally {
      await agent.close();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('HTTP: RATE_LIMITED waits for Retry-After, then goes through', async () => {
    const dir = tempDataDir('overseer-sdk-');
    const config = join(dir.path, 'overseer.config.yaml');
    writeFileSync(config, 'rateLimit: { perSecond: 1, burst: 1 }\n');
    const limited = await serve(
      { config, host: '127.0.0.1', port: 0, dataDir: dir.path, logLevel: 'silent' },
      () => undefined,
    );
    const retries: RetryInfo[] = [];
    const agent = await connectAgent({
      workspaceId: 'sdk-limited',
      token: await tokenFor('sdk-limited', ['jobs:write']),
      http: limited.url,
      onRetry: (info) => retries.push(info),
    });
    try {
      await agent.submit({ title: 'first' });
      const started = Date.now();
      await agent.submit({ title: 'second' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(retries[0]).toMatchObject({ command: 'jobs.submit', error: { code: 'RATE_LIMITED' } });
      expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(1_000);
    } finally {
      await agent.close();
      await limited.close();
      dir.remove();
    }
  });

  it('NATS: requests and events during a nats-server restart end with answers, applied once, gaps filled', async () => {
    const workspaceId = 'sdk-outage';
    const sup = supervisor(node.server.url, workspaceId, admin);
    const retries: RetryInfo[] = [];
    const agent = await connectAgent({
      workspaceId,
      token: await tokenFor(workspaceId, [...WORKER_SCOPES]),
      nats: ns.url,
      timeoutMs: 300,
      retry: { attempts: 30, maxDelayMs: 300 },
      onRetry: (info) => retries.push(info),
    });
    // A plain subscriber: what it misses during the outage, the agent's stream must fill from events.list.
    const plain: NatsConnection = await connect({
      servers: ns.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 200,
    });
    const published: number[] = [];
    plain.subscribe(`overseer.evt.${workspaceId}.>`, {
      callback: (_err, msg) => {
        published.push(msg.json<JournalRecord>().seq);
      },
    });
    await plain.flush();
    const stream = agent.events({ pollMs: 60_000 });
    const { seen, done } = collect(stream);
    try {
      const before = await sup.submit('before');
      await expect.poll(() => seen.some((r) => r.id === before.id && r.to === 'QUEUED')).toBe(true);

      const restarting = ns.restart({ downtimeMs: 1_500 });
      await expect.poll(() => node.server.bus?.isConnected).toBe(false);
      // Over NATS while it is down; and over HTTP, whose events the node cannot publish meanwhile.
      const during = agent.submit({ title: 'during the outage' });
      const missed = [await sup.submit('missed 1'), await sup.submit('missed 2')];
      await restarting;
      const job = await during;
      expect(retries.length).toBeGreaterThan(0);
      expect(retries.every((r) => r.error.code === 'STORAGE_UNAVAILABLE')).toBe(true);
      expect((await sup.jobs()).filter((j) => j.title === 'during the outage').map((j) => j.id)).toEqual([
        job.id,
      ]);

      // Once both ends are back, a new record shows the gap; the stream fills it.
      await expect
        .poll(
          async () => {
            await sup.submit('after');
            return seen.some((r) => r.id === missed[1]!.id);
          },
          { timeout: 15_000, interval: 500 },
        )
        .toBe(true);
      expect(seen.map((r) => r.seq)).toEqual(seen.map((_, i) => i + 1));
      const missedSeqs = seen.filter((r) => missed.some((m) => m.id === r.id)).map((r) => r.seq);
      expect(missedSeqs.length).toBeGreaterThan(0);
      for (const seq of missedSeqs) expect(published).not.toContain(seq);
    } finally {
      stream.close();
      await done;
      await plain.close();
      await agent.close();
    }
  });
});
