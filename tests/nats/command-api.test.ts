import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/api/commands.ts';
import { startNatsServer, type NatsServer } from '../../src/testing.ts';
import { rejection } from '../support/open.ts';
import { call, plainClient, startDataNode, startGateway, tokenFor, type Node } from './support.ts';

let ns: NatsServer;
let node: Node;
let nc: NatsConnection;
let admin: string;
let writer: string;
let reader: string;

beforeAll(async () => {
  ns = await startNatsServer();
  node = await startDataNode(ns.url);
  nc = await plainClient(ns.url);
  admin = await tokenFor('acme', ['admin']);
  writer = await tokenFor('acme', ['jobs:write', 'jobs:read', 'supervisor:read']);
  reader = await tokenFor('acme', ['jobs:read']);
});
afterAll(async () => {
  await nc?.close();
  await node?.close();
  await ns?.stop();
});

describe('command API over NATS', () => {
  it('runs a command with the JSON answer HTTP gives, on the same runtime', async () => {
    const reply = await call(nc, 'overseer.cmd.acme.jobs.submit', { title: 'Over NATS' }, { token: writer });
    expect(reply.status).toBeUndefined();
    const job = reply.body as { id: string; title: string; status: string };
    expect(job).toMatchObject({ title: 'Over NATS', status: 'QUEUED' });
    const res = await fetch(`${node.server.url}/api/jobs/${job.id}`, {
      headers: { authorization: `Bearer ${writer}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(job);
  });

  it('answers errors in the envelope with Nats-Service-Error-Code (HTTP status) and Nats-Service-Error (code)', async () => {
    const cases: [string, unknown, string | undefined, string, string][] = [
      ['overseer.cmd.acme.jobs.submit', { title: 'x' }, undefined, '401', 'UNAUTHENTICATED'],
      ['overseer.cmd.acme.jobs.submit', { title: 'x' }, 'not-a-jwt', '401', 'UNAUTHENTICATED'],
      ['overseer.cmd.acme.jobs.submit', { title: '' }, 'writer', '400', 'VALIDATION_FAILED'],
      ['overseer.cmd.acme.jobs.get', { jobId: 'job_nope' }, 'writer', '404', 'NOT_FOUND'],
      ['overseer.cmd.acme.jobs.submit', { title: 'x' }, 'reader', '403', 'INSUFFICIENT_SCOPE'],
      ['overseer.cmd.other.jobs.list', {}, 'writer', '403', 'INSUFFICIENT_SCOPE'],
      ['overseer.cmd.Bad!.jobs.list', {}, 'admin', '400', 'VALIDATION_FAILED'],
    ];
    const tokens: Record<string, string> = { writer, reader, admin, 'not-a-jwt': 'not-a-jwt' };
    for (const [subject, payload, who, status, code] of cases) {
      const reply = await call(nc, subject, payload, who ? { token: tokens[who]! } : {});
      expect({ subject, status: reply.status, error: reply.error }).toEqual({ subject, status, error: code });
      const body = reply.body as { error: { code: string; message: string; details: unknown } };
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe('string');
      expect(body.error.details).toBeTypeOf('object');
    }
  });

  it('refuses a payload that is not JSON, and changes nothing', async () => {
    const before = await call(nc, 'overseer.cmd.acme.jobs.list', { limit: 500 }, { token: writer });
    const bad = await nc.request('overseer.cmd.acme.jobs.submit', '{"title": ', { timeout: 5_000 });
    expect(bad.headers?.get('Nats-Service-Error')).toBe('VALIDATION_FAILED');
    const after = await call(nc, 'overseer.cmd.acme.jobs.list', { limit: 500 }, { token: writer });
    expect((after.body as { jobs: unknown[] }).jobs).toHaveLength(
      (before.body as { jobs: unknown[] }).jobs.length,
    );
  });

  it('lets an admin token command any workspace named by the subject', async () => {
    const reply = await call(nc, 'overseer.cmd.beta.jobs.submit', { title: 'In beta' }, { token: admin });
    expect(reply.status).toBeUndefined();
    const list = await call(nc, 'overseer.cmd.beta.jobs.list', {}, { token: admin });
    expect((list.body as { jobs: { title: string }[] }).jobs.map((j) => j.title)).toEqual(['In beta']);
  });

  it('applies an Idempotency-Key once, and refuses its reuse with another payload', async () => {
    const first = await call(
      nc,
      'overseer.cmd.acme.jobs.submit',
      { title: 'Once' },
      {
        token: writer,
        idempotencyKey: 'nats-key-1',
      },
    );
    const again = await call(
      nc,
      'overseer.cmd.acme.jobs.submit',
      { title: 'Once' },
      {
        token: writer,
        idempotencyKey: 'nats-key-1',
      },
    );
    expect(again.body).toEqual(first.body);
    const other = await call(
      nc,
      'overseer.cmd.acme.jobs.submit',
      { title: 'Twice' },
      {
        token: writer,
        idempotencyKey: 'nats-key-1',
      },
    );
    expect(other.error).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(other.status).toBe('422');
  });

  it('registers service overseer with one endpoint per command ($SRV.PING, INFO, STATS)', async () => {
    const ping = (await nc.request('$SRV.PING.overseer', '', { timeout: 2_000 })).json<{
      name: string;
      id: string;
    }>();
    expect(ping.name).toBe('overseer');
    const info = (await nc.request('$SRV.INFO.overseer', '', { timeout: 2_000 })).json<{
      endpoints: { name: string; subject: string; queue_group: string; metadata: { command: string } }[];
    }>();
    expect(info.endpoints.map((e) => e.metadata.command).sort()).toEqual(commands.map((c) => c.name).sort());
    for (const e of info.endpoints) {
      expect(e.subject).toBe(`overseer.cmd.*.${e.metadata.command}`);
      expect(e.queue_group).toBe('q');
    }
    const stats = (await nc.request('$SRV.STATS.overseer', '', { timeout: 2_000 })).json<{
      endpoints: { subject: string; data: { requests: number; errors: number } | null }[];
    }>();
    const submit = stats.endpoints.find((e) => e.subject === 'overseer.cmd.*.jobs.submit');
    expect(submit?.data?.requests).toBeGreaterThanOrEqual(4);
    expect(submit?.data?.errors).toBeGreaterThanOrEqual(1);
  });

  it('exports the latency histogram of NATS commands at /metrics', async () => {
    const res = await fetch(`${node.server.url}/metrics`, { headers: { authorization: `Bearer ${reader}` } });
    const text = await res.text();
    expect(text).toMatch(
      /overseer_nats_command_duration_seconds_count\{command="jobs.submit",outcome="ok"\} \d+/,
    );
    expect(text).toMatch(/overseer_bus_subscriber_dropped_messages_total \d+/);
  });

  it('refuses to start a second data node on the same NATS', async () => {
    const err = await rejection(startDataNode(ns.url));
    expect(err.code).toBe('DATA_DIR_LOCKED');
    expect(err.details).toMatchObject({ reason: 'service_running' });
    // The first node still answers.
    const reply = await call(nc, 'overseer.cmd.acme.jobs.list', {}, { token: reader });
    expect(reply.status).toBeUndefined();
  });

  it('publishes every journal record after its commit, with its seq; events.list fills a gap', async () => {
    const seen: { subject: string; record: { seq: number; id: string; to: string } }[] = [];
    const sub = nc.subscribe('overseer.evt.acme.>', {
      callback: (_err, msg) => {
        seen.push({ subject: msg.subject, record: msg.json() });
      },
    });
    await nc.flush();
    const job = (await call(nc, 'overseer.cmd.acme.jobs.submit', { title: 'Evented' }, { token: writer }))
      .body as { id: string };
    await expect.poll(() => seen.filter((s) => s.record.id === job.id).length).toBeGreaterThanOrEqual(1);
    sub.unsubscribe();
    const mine = seen.filter((s) => s.record.id === job.id);
    for (const s of mine) expect(s.subject).toBe(`overseer.evt.acme.job.${job.id}.${s.record.to}`);
    const first = mine[0]!.record.seq;
    const listed = (
      await call(nc, 'overseer.cmd.acme.events.list', { afterSeq: first - 1, limit: 10 }, { token: reader })
    ).body as { events: { seq: number; id: string }[] };
    expect(listed.events[0]).toMatchObject({ seq: first, id: job.id });
  });
});

describe('gateway mode', () => {
  let gateway: Node;
  beforeAll(async () => {
    gateway = await startGateway(ns.url);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('forwards HTTP commands to the data node with the token and idempotency key unchanged', async () => {
    const post = (key: string, title: string) =>
      fetch(`${gateway.server.url}/api/jobs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${writer}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify({ title }),
      });
    const res = await post('gw-1', 'Through the gateway');
    expect(res.status).toBe(201);
    const job = (await res.json()) as { id: string };
    expect(await (await post('gw-1', 'Through the gateway')).json()).toEqual(job);
    expect((await post('gw-1', 'Another')).status).toBe(422);
    const direct = await call(nc, 'overseer.cmd.acme.jobs.get', { jobId: job.id }, { token: reader });
    expect(direct.body).toEqual(job);
    const whoami = await fetch(`${gateway.server.url}/api/v1/whoami`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(await whoami.json()).toMatchObject({ sub: 'tester', workspaceId: 'acme' });
  });

  it('forwards a long-poll claim that waits longer than the default request timeout', async () => {
    const worker = await tokenFor('longpoll', ['queue:work', 'jobs:write']);
    const post = (path: string, body: unknown) =>
      fetch(`${gateway.server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${worker}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const w = (await (await post('/api/v1/workers', { name: 'gw-worker' })).json()) as { id: string };
    const claiming = post('/api/v1/queue/claim', { workerId: w.id, waitMs: 6_000 });
    await new Promise((resolve) => setTimeout(resolve, 5_300));
    const job = (await (await post('/api/jobs', { title: 'Late job' })).json()) as { id: string };
    const res = await claiming;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { job: { id: string } }).job.id).toBe(job.id);
  }, 15_000);

  it('answers an invalid ?workspaceId= as a data node does', async () => {
    const res = await fetch(`${gateway.server.url}/api/jobs?workspaceId=Bad!`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(res.status).toBe(400);
    const direct = await fetch(`${node.server.url}/api/jobs?workspaceId=Bad!`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    expect(direct.status).toBe(400);
  });

  it('leaves authentication to the data node: a forged token is refused there', async () => {
    const [h, , s] = admin.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'x', ws: 'acme', scopes: ['admin'], exp: 4e9 })).toString('base64url')}.${s}`;
    for (const path of ['/api/jobs', '/metrics']) {
      const res = await fetch(`${gateway.server.url}${path}`, {
        headers: { authorization: `Bearer ${forged}` },
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    }
    const res = await fetch(`${gateway.server.url}/api/jobs`);
    expect(res.status).toBe(401);
  });

  it('answers 503 when no data node serves the workspace, and is ready while NATS is connected', async () => {
    expect((await fetch(`${gateway.server.url}/readyz`)).status).toBe(200);
    expect(
      (await fetch(`${gateway.server.url}/metrics`, { headers: { authorization: `Bearer ${reader}` } }))
        .status,
    ).toBe(200);
    // A NATS with no data node behind it: the gateway is ready, every command answers 503 at once.
    const empty = await startNatsServer();
    const lone = await startGateway(empty.url);
    try {
      expect((await fetch(`${lone.server.url}/readyz`)).status).toBe(200);
      const res = await fetch(`${lone.server.url}/api/jobs`, {
        headers: { authorization: `Bearer ${reader}` },
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        error: { code: 'STORAGE_UNAVAILABLE', details: { reason: 'no_responders' } },
      });
    } finally {
      await lone.close();
      await empty.stop();
    }
  });
});

describe('pages under the NATS max_payload', () => {
  let small: NatsServer;
  let smallNode: Node;
  let snc: NatsConnection;
  beforeAll(async () => {
    small = await startNatsServer({ config: 'max_payload: 32768' });
    smallNode = await startDataNode(small.url);
    snc = await plainClient(small.url);
  });
  afterAll(async () => {
    await snc?.close();
    await smallNode?.close();
    await small?.stop();
  });

  it('ends a list page early, with nextCursor, before the reply would exceed max_payload', async () => {
    const description = 'd'.repeat(2_000);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await call(
        snc,
        'overseer.cmd.acme.jobs.submit',
        { title: `Big ${i}`, description },
        { token: writer },
      );
      ids.push((r.body as { id: string }).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const reply = await call(
        snc,
        'overseer.cmd.acme.jobs.list',
        { limit: 500, ...(cursor ? { cursor } : {}) },
        { token: reader },
      );
      expect(reply.status).toBeUndefined();
      expect(Buffer.byteLength(JSON.stringify(reply.body))).toBeLessThanOrEqual(32768);
      const page = reply.body as { jobs: { id: string }[]; nextCursor: string | null };
      seen.push(...page.jobs.map((j) => j.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(2);
    expect(seen).toEqual(ids);
    // The same budget holds over HTTP on that node.
    const res = await fetch(`${smallNode.server.url}/api/jobs?limit=500`, {
      headers: { authorization: `Bearer ${reader}` },
    });
    const page = (await res.json()) as { jobs: unknown[]; nextCursor: string | null };
    expect(page.jobs.length).toBeLessThan(40);
    expect(page.nextCursor).not.toBeNull();
  });
});
