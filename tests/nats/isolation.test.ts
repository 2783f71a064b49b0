/**
 * Isolation by NATS permissions, not by good manners: a real nats-server runs with the user blocks that
 * `overseer nats-config` prints, and plain nats.js clients show what each user can and cannot do.
 */
import {
  headers as natsHeaders,
  PermissionViolationError,
  type Msg,
  type NatsConnection,
} from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsConfig } from '../../src/cli/nats-config.ts';
import { startNatsServer, type NatsServer } from '../../src/testing.ts';
import { call, decodeReply, startDataNode, tokenFor, type Node, permissionClients } from './support.ts';

const PASS = {
  acme: 'acme-password-0123456789',
  beta: 'beta-password-0123456789',
  node: 'data-node-password-0123456789',
  gateway: 'gateway-password-0123456789',
};

/** The entries `overseer nats-config --entry` prints, merged into one authorization block. */
const serverConfig = [
  'authorization {',
  '  users = [',
  natsConfig({ workspace: 'acme', password: PASS.acme, entry: true }),
  natsConfig({ workspace: 'beta', password: PASS.beta, entry: true }),
  natsConfig({ dataNode: true, password: PASS.node, entry: true }),
  natsConfig({ gateway: true, password: PASS.gateway, entry: true }),
  '  ]',
  '}',
].join('\n');

let ns: NatsServer;
let node: Node;
let acme: NatsConnection;
let beta: NatsConnection;
const clients = permissionClients(() => ns.url);
const { client, refused, violations } = clients;
let acmeToken: string;
let betaToken: string;
let admin: string;
/** Connection errors of the data node's own connection (a refused publish or reply would show here). */
const nodeErrors: string[] = [];

const authorized = (token: string) => {
  const h = natsHeaders();
  h.set('Authorization', `Bearer ${token}`);
  return h;
};

beforeAll(async () => {
  ns = await startNatsServer({ config: serverConfig });
  node = await startDataNode(`nats://overseer-data-node:${PASS.node}@127.0.0.1:${ns.port}`);
  node.server.bus!.onStatus((s) => s.type === 'error' && nodeErrors.push(s.type));
  acme = await client('acme', PASS.acme, '_INBOX_acme');
  beta = await client('beta', PASS.beta, '_INBOX_beta');
  acmeToken = await tokenFor('acme', ['jobs:read', 'jobs:write']);
  betaToken = await tokenFor('beta', ['jobs:read', 'jobs:write']);
  // An admin token opens any workspace at the data node: only NATS keeps it out of beta below.
  admin = await tokenFor('acme', ['admin']);
});
afterAll(async () => {
  await clients.closeAll();
  await node?.close();
  await ns?.stop();
});

describe('a workspace user (overseer nats-config --workspace acme)', () => {
  it('runs commands on overseer.cmd.acme.* and receives overseer.evt.acme.* events', async () => {
    const events: { subject: string; id: string; to: string }[] = [];
    const sub = acme.subscribe('overseer.evt.acme.>', {
      callback: (err, msg) => {
        if (!err) events.push({ subject: msg.subject, ...msg.json<{ id: string; to: string }>() });
      },
    });
    await acme.flush();
    const submitted = await call(
      acme,
      'overseer.cmd.acme.jobs.submit',
      { title: 'Fenced' },
      { token: acmeToken },
    );
    expect(submitted.status).toBeUndefined();
    const job = submitted.body as { id: string; status: string };
    expect(job.status).toBe('QUEUED');
    const got = await call(acme, 'overseer.cmd.acme.jobs.get', { jobId: job.id }, { token: acmeToken });
    expect(got.body).toEqual(job);
    await expect.poll(() => events.some((e) => e.id === job.id && e.to === 'QUEUED')).toBe(true);
    expect(events.find((e) => e.to === 'QUEUED')?.subject).toBe(`overseer.evt.acme.job.${job.id}.QUEUED`);
    sub.unsubscribe();
    expect(violations.get(acme)).toEqual([]);
  });

  it('cannot command another workspace, even with a token the data node would accept', async () => {
    const err = await acme
      .request('overseer.cmd.beta.jobs.list', '{}', { headers: authorized(admin), timeout: 2_000 })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    const cause = err?.cause;
    expect(cause).toBeInstanceOf(PermissionViolationError);
    expect(cause).toMatchObject({ operation: 'publish', subject: 'overseer.cmd.beta.jobs.list' });

    // A publish without a reply is refused too, and changes nothing in beta.
    const h = authorized(admin);
    h.set('Idempotency-Key', 'sneak-1');
    acme.publish('overseer.cmd.beta.jobs.submit', JSON.stringify({ title: 'Sneaked in' }), { headers: h });
    await refused(acme, 'publish', 'overseer.cmd.beta.jobs.submit');
    // Positive control: the same admin token, from a user allowed on beta's subjects (a gateway), works.
    const gateway = await client('overseer-gateway', PASS.gateway);
    const listed = await call(gateway, 'overseer.cmd.beta.jobs.list', {}, { token: admin });
    expect(listed.status).toBeUndefined();
    expect((listed.body as { jobs: { title: string }[] }).jobs.map((j) => j.title)).not.toContain(
      'Sneaked in',
    );
    const own = await call(beta, 'overseer.cmd.beta.jobs.list', {}, { token: betaToken });
    expect(own.status).toBeUndefined();
  });

  it("cannot subscribe to another workspace's events, to any command subject, or to other inboxes", async () => {
    const denied = [
      'overseer.evt.beta.>',
      'overseer.evt.>',
      'overseer.cmd.>',
      'overseer.cmd.acme.>',
      'overseer.cmd.*.jobs.submit',
      '_INBOX_beta.>',
      '_INBOX.>',
      '$SRV.>',
    ];
    const errors = new Map<string, Error>();
    const received: string[] = [];
    const subs = denied.map((subject) =>
      acme.subscribe(subject, {
        callback: (err, msg) => {
          if (err) errors.set(subject, err);
          else received.push(msg.subject);
        },
      }),
    );
    for (const subject of denied) await refused(acme, 'subscription', subject);
    await expect.poll(() => errors.size).toBe(denied.length);
    for (const [subject, err] of errors) {
      expect(err).toBeInstanceOf(PermissionViolationError);
      expect(err).toMatchObject({ operation: 'subscription', subject });
    }
    expect(subs.every((s) => s.isClosed())).toBe(true);

    // Beta works meanwhile; its events reach beta (positive control) and its tokens reach no acme subscriber.
    const betaEvents: string[] = [];
    const betaSub = beta.subscribe('overseer.evt.beta.>', {
      callback: (_e, m) => void betaEvents.push(m.subject),
    });
    await beta.flush();
    const job = (
      await call(beta, 'overseer.cmd.beta.jobs.submit', { title: 'Beta only' }, { token: betaToken })
    ).body as { id: string };
    await expect.poll(() => betaEvents).toContain(`overseer.evt.beta.job.${job.id}.QUEUED`);
    betaSub.unsubscribe();
    await acme.flush();
    expect(received).toEqual([]);
  });

  it("cannot publish into another client's inbox, nor forge events", async () => {
    const inbox: Msg[] = [];
    const sub = beta.subscribe('_INBOX_beta.>', { callback: (_e, m) => void inbox.push(m) });
    await beta.flush();
    acme.publish('_INBOX_beta.x', JSON.stringify({ jobs: [], nextCursor: null }));
    await refused(acme, 'publish', '_INBOX_beta.x');
    for (const subject of [
      'overseer.evt.beta.job.job_x.COMPLETED',
      'overseer.evt.acme.job.job_x.COMPLETED',
    ]) {
      acme.publish(subject, JSON.stringify({ seq: 1e9, id: 'job_x', to: 'COMPLETED' }));
      await refused(acme, 'publish', subject);
    }
    // Positive control: a reply of the data node does land in beta's inbox, where the wildcard sees it.
    const reply = await call(beta, 'overseer.cmd.beta.auth.whoami', {}, { token: betaToken });
    expect(reply.body).toMatchObject({ sub: 'tester', workspaceId: 'beta' });
    await expect.poll(() => inbox.length).toBe(1);
    expect(inbox[0]!.subject).toMatch(/^_INBOX_beta\.[^.]+\.[^.]+$/);
    expect(decodeReply(inbox[0]!).body).toEqual(reply.body);
    sub.unsubscribe();
  });

  it("cannot make the data node answer into another workspace's subjects (reply-subject spoofing)", async () => {
    const landed: Msg[] = [];
    const subs = [
      beta.subscribe('_INBOX_beta.>', { callback: (_e, m) => void landed.push(m) }),
      beta.subscribe('overseer.evt.beta.>', { callback: (_e, m) => void landed.push(m) }),
    ];
    await beta.flush();
    const { headers } = await import('@nats-io/transport-node');
    const h = headers();
    h.set('Authorization', `Bearer ${acmeToken}`);
    for (const reply of ['_INBOX_beta.spoof', 'overseer.evt.beta.job.job_fake.COMPLETED'])
      acme.publish('overseer.cmd.acme.jobs.list', '{}', { reply, headers: h });
    await acme.flush();
    // Positive control, sent after the spoofs on the same connection: a real reply reaches beta.
    const control = await call(beta, 'overseer.cmd.beta.auth.whoami', {}, { token: betaToken });
    expect(control.status).toBeUndefined();
    await expect.poll(() => landed.length).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(landed.map((m) => m.subject)).toEqual([expect.stringMatching(/^_INBOX_beta\.[^.]+\.[^.]+$/)]);
    for (const sub of subs) sub.unsubscribe();
  });

  it('gets no reply without its inbox prefix', async () => {
    const bare = await client('acme', PASS.acme);
    const err = await bare
      .request('overseer.cmd.acme.jobs.list', '{}', { headers: authorized(acmeToken), timeout: 2_000 })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.cause).toBeInstanceOf(PermissionViolationError);
    expect(err?.cause).toMatchObject({ operation: 'subscription' });
    expect((err?.cause as PermissionViolationError).subject).toMatch(/^_INBOX\./);
    // The same user with the prefix is answered (positive control).
    const ok = await call(acme, 'overseer.cmd.acme.jobs.list', {}, { token: acmeToken });
    expect(ok.status).toBeUndefined();
  });
});

describe('the data node and gateway users', () => {
  it('lets the data node serve every workspace and $SRV, and answer once, but not publish into an inbox', async () => {
    const nodeUser = await client('overseer-data-node', PASS.node);
    const ping = (await nodeUser.request('$SRV.PING.overseer', '', { timeout: 2_000 })).json<{
      name: string;
    }>();
    expect(ping.name).toBe('overseer');
    nodeUser.publish('_INBOX_beta.x', '{}');
    await refused(nodeUser, 'publish', '_INBOX_beta.x');
    nodeUser.publish('overseer.cmd.acme.jobs.list', '{}');
    await refused(nodeUser, 'publish', 'overseer.cmd.acme.jobs.list');
    // The data node's own connection met no refusal: every answer and event of this file went through it.
    expect(nodeErrors).toEqual([]);
  });

  it('lets a gateway forward commands of any workspace, but not read commands or events', async () => {
    const gateway = await client('overseer-gateway', PASS.gateway);
    for (const ws of ['acme', 'beta']) {
      const reply = await call(gateway, `overseer.cmd.${ws}.auth.whoami`, {}, { token: admin });
      expect(reply.body).toMatchObject({ sub: 'tester', workspaceId: ws });
    }
    const errors: Error[] = [];
    for (const subject of ['overseer.cmd.>', 'overseer.evt.>'])
      gateway.subscribe(subject, { callback: (err) => void (err && errors.push(err)) });
    await refused(gateway, 'subscription', 'overseer.cmd.>');
    await refused(gateway, 'subscription', 'overseer.evt.>');
    await expect.poll(() => errors.length).toBe(2);
  });
});
