import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerCredential } from '../../src/api/auth.ts';
import { routes } from '../../src/http/routes.ts';
import { serve } from '../../src/cli/serve.ts';
import { HTTP_ROUTES } from '../../src/sdk/http-transport.ts';
import {
  connectAgent,
  OverseerError,
  type Agent,
  type AgentOptions,
  type JournalRecord,
  type WorkerCredential,
} from '../../src/sdk/index.ts';
import type { RetryInfo } from '../../src/sdk/retry.ts';
import { startNatsServer, tempDataDir, type NatsServer } from '../../src/testing.ts';
import { rejection } from '../support/open.ts';
import { ROLES } from '../../src/contracts/scopes.ts';
import { subjects } from '../../src/transport/subjects.ts';
import { startDataNode, TEST_SECRET, tokenFor, type Node } from '../nats/support.ts';
import { sleep, supervisor, whoami, type Supervisor } from './support.ts';

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
    expect(agent.workerId).toBe(worker.id);
    expect(agent.transportKind).toBe(kind);
    expect((await sup.worker(worker.id)).status).toBe('IDLE');
    // The answer carries the worker's own credential: bound to it, with the agent role's scopes only.
    expect(worker.credential.expiresAt).toBeGreaterThan(Date.now());
    expect(agent.credential).toEqual(worker.credential);
    expect(agent.worker).not.toHaveProperty('credential');
    expect(await whoami(node.server.url, worker.credential.token)).toEqual({
      status: 200,
      body: { sub: worker.id, workspaceId, scopes: [...ROLES.agent], workerId: worker.id },
    });
  });

  it('claims with a wait: a job submitted after the claim started is handed out', async () => {
    const started = Date.now();
    const claiming = agent.claim({ waitMs: 10_000 });
    await sleep(300);
    const job = await sup.submit('Arrives later');
    const claim = await claiming;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(claim?.job).toMatchObject({ id: job.id, status: 'RUNNING' });
    // The lease's token is a secret (128 random bits), its fence a public number.
    expect(claim?.leaseToken).toMatch(/^[\w-]{22,}$/);
    expect(Number.isInteger(claim?.fence)).toBe(true);
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
    expect(done.next!.fence).toBeGreaterThan(claim!.fence);
    const last = await agent.complete(second.id, done.next!.leaseToken, { claimNext: true });
    expect(last.next).toBeNull();
    const plain = await agent.complete(second.id, done.next!.leaseToken).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(OverseerError);
    expect(plain).toMatchObject({ code: 'LEASE_LOST', status: 409 });

    // The agent claimed and completed as its worker: the journal names the worker, not the token that registered it.
    const workerId = agent.worker!.id;
    const records = await sup.events();
    expect(records.find((r) => r.id === workerId)?.principal).toBe('agent-1');
    for (const id of [job.id, second.id])
      expect(
        records
          .filter((r) => r.id === id && ['RUNNING', 'COMPLETED'].includes(r.to))
          .map((r) => [r.to, r.principal]),
      ).toEqual([
        ['RUNNING', workerId],
        ['COMPLETED', workerId],
      ]);
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

  it('renews its credential from heartbeat answers and carries the newest (resumed with workerId)', async () => {
    const workerId = agent.worker!.id;
    // The worker's credential past half its life (minted 40 minutes ago): a heartbeat answers its renewal.
    const old = await createWorkerCredential(
      { secret: TEST_SECRET },
      { workspaceId, workerId, now: Date.now() - 40 * 60_000 },
    );
    const received: WorkerCredential[] = [];
    const resumed = await connectAgent(
      options({ token: old.token, workerId, onCredential: (c) => received.push(c) }),
    );
    try {
      expect(resumed.workerId).toBe(workerId);
      expect(resumed.credential).toBeUndefined();
      const beat = await resumed.heartbeat();
      expect(beat.directive).toBe('continue');
      expect(beat.credential!.expiresAt).toBeGreaterThan(old.expiresAt);
      expect(resumed.credential).toEqual(beat.credential);
      expect(received).toEqual([beat.credential]);
      // The next heartbeat carries the renewed credential, not yet due for renewal: its answer renews nothing.
      expect((await resumed.heartbeat()).credential).toBeUndefined();
      expect(received).toHaveLength(1);
    } finally {
      await resumed.close();
    }
  });

  it('refuses calls on another worker with NOT_YOUR_WORKER, without retrying them', async () => {
    const other = await connectAgent(options());
    const retries: RetryInfo[] = [];
    try {
      const theirs = await other.register({ name: 'someone-else' });
      const impostor = await connectAgent(
        options({
          token: agent.credential!.token,
          workerId: theirs.id,
          onRetry: (info) => retries.push(info),
        }),
      );
      try {
        expect(await rejection(impostor.heartbeat())).toMatchObject({ code: 'NOT_YOUR_WORKER', status: 403 });
        expect(await rejection(impostor.deregister())).toMatchObject({ code: 'NOT_YOUR_WORKER' });
      } finally {
        await impostor.close();
      }
      expect(retries).toEqual([]);
      expect((await sup.worker(theirs.id)).status).toBe('IDLE');
    } finally {
      await other.close();
    }
  });

  it('answers null to a claim while paused, and terminate once terminated', async () => {
    const other = await connectAgent(options());
    try {
      const worker = await other.register({ name: 'to-terminate' });
      await sup.post(`/api/supervisor/workers/${worker.id}/pause`);
      expect(await other.claim()).toBeNull();
      expect((await other.heartbeat()).directive).toBe('pause');
      await sup.post(`/api/supervisor/workers/${worker.id}/terminate`, { reason: 'test' });
      // Terminated, the worker's credential is revoked: the server refuses it, the agent answers terminate.
      expect(await whoami(node.server.url, other.credential!.token)).toMatchObject({
        status: 401,
        body: { error: { code: 'UNAUTHENTICATED', details: { reason: 'ERR_REVOKED' } } },
      });
      expect(await other.claim()).toBeNull();
      expect((await other.heartbeat()).directive).toBe('terminate');
      expect((await other.heartbeat(undefined, { idempotencyKey: 'after-the-end' })).directive).toBe(
        'terminate',
      );
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
    expect((await rejection(connectAgent({ ...base, workerId: 'wrk_a.>', nats: ns.url }))).code).toBe(
      'VALIDATION_FAILED',
    );
  });

  it("over NATS, a resumed worker's replies arrive in its own inbox (what nats-config --worker allows)", async () => {
    const workspaceId = 'sdk-inbox';
    const runner = await connectAgent({
      workspaceId,
      token: await tokenFor(workspaceId, ROLES.runner, 'runner'),
      nats: ns.url,
    });
    const { id: workerId, credential } = await runner.register({ name: 'resumed' });
    await runner.close();
    const sniffer = await connect({ servers: ns.url });
    const replies: string[] = [];
    sniffer.subscribe(subjects.workspaceCommands(workspaceId), {
      callback: (_err, msg) => {
        replies.push(msg.reply ?? '');
      },
    });
    await sniffer.flush();
    const worker = await connectAgent({ workspaceId, token: credential.token, workerId, nats: ns.url });
    try {
      expect((await worker.heartbeat()).directive).toBe('continue');
      expect(await worker.claim()).toBeNull();
      expect(replies).toHaveLength(2);
      for (const reply of replies)
        expect(reply.startsWith(`${subjects.workerInbox(workspaceId, workerId)}.`)).toBe(true);
    } finally {
      await worker.close();
      await sniffer.close();
    }
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
