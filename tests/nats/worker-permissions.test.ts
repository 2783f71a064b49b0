/**
 * Per-worker NATS users (`overseer nats-config --workspace acme --worker <id>`) on a real nats-server: two workers
 * A and B of one workspace, a real data node answering their commands, and an observer with the data node's
 * permissions that sees every command published and publishes worker events. B can read neither A's replies nor
 * A's events, and can publish only its own commands.
 */
import { PermissionViolationError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCommandNames } from '../../src/api/agent-commands.ts';
import { authorize } from '../../src/api/auth.ts';
import { commands } from '../../src/api/commands.ts';
import { natsConfig, natsUserFor, runNatsConfig } from '../../src/cli/nats-config.ts';
import { ROLES } from '../../src/contracts/scopes.ts';
import { createUlidGenerator } from '../../src/core/ids.ts';
import { replyAllowed } from '../../src/transport/nats-command-service.ts';
import { subjects } from '../../src/transport/subjects.ts';
import { startNatsServer, type NatsServer } from '../../src/testing.ts';
import { call, startDataNode, tokenFor, type Node, permissionClients } from './support.ts';

const ids = createUlidGenerator(Date.now);
const A = ids.next('wrk');
const B = ids.next('wrk');
const PASS = { a: 'worker-a-password-0123', b: 'worker-b-password-0123', node: 'data-node-password-0123' };

const serverConfig = [
  'authorization {',
  '  users = [',
  natsConfig({ workspace: 'acme', worker: A, password: PASS.a, entry: true }),
  natsConfig({ workspace: 'acme', worker: B, password: PASS.b, entry: true }),
  natsConfig({ dataNode: true, password: PASS.node, entry: true }),
  '  ]',
  '}',
].join('\n');

let ns: NatsServer;
let node: Node;
let a: NatsConnection;
let b: NatsConnection;
/** A connection with the data node's permissions: it sees every command subject and publishes events. */
let observer: NatsConnection;
const commandsSeen: string[] = [];
const clients = permissionClients(() => ns.url);
const { client, refused, violations } = clients;

/** A subscription that records what reaches it. */
function recording(nc: NatsConnection, subject: string): { sub: Subscription; got: string[] } {
  const got: string[] = [];
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (!err) got.push(msg.subject);
    },
  });
  return { sub, got };
}

beforeAll(async () => {
  ns = await startNatsServer({ config: serverConfig, monitor: false });
  node = await startDataNode(`nats://overseer-data-node:${PASS.node}@127.0.0.1:${ns.port}`);
  observer = await client('overseer-data-node', PASS.node);
  observer.subscribe(subjects.allEndpoints, {
    callback: (err, msg) => {
      if (!err) commandsSeen.push(msg.subject);
    },
  });
  await observer.flush();
  a = await client(A, PASS.a, subjects.workerInbox('acme', A));
  b = await client(B, PASS.b, subjects.workerInbox('acme', B));
});
afterAll(async () => {
  await clients.closeAll();
  await node?.close();
  await ns?.stop();
});

describe('a worker user (overseer nats-config --worker)', () => {
  it('runs an agent command and gets the answer in its own inbox; B, whatever it subscribes to, never sees it', async () => {
    const spies = [`${subjects.workerInbox('acme', A)}.>`, '_INBOX_acme.>', '_INBOX_acme.*.>', '>'].map((s) =>
      recording(b, s),
    );
    const own = recording(b, `${subjects.workerInbox('acme', B)}.>`);
    await b.flush();
    for (const { sub } of spies) await refused(b, 'subscription', sub.getSubject());

    const token = await tokenFor('acme', ROLES.agent, `agent-${A}`);
    const answer = await call(a, subjects.command('acme', 'auth.whoami'), {}, { token });
    expect(answer).toMatchObject({ status: undefined, body: { sub: `agent-${A}`, workspaceId: 'acme' } });
    // B's own requests still work, and the answers to A's did not reach it.
    const bToken = await tokenFor('acme', ROLES.agent, `agent-${B}`);
    const bAnswer = await call(b, subjects.command('acme', 'queue.stats'), {}, { token: bToken });
    expect(bAnswer.status).toBeUndefined();
    await b.flush();
    expect(spies.flatMap((s) => s.got)).toEqual([]);
    // Positive control: B's own inbox subscription is allowed, and saw B's answer alone.
    expect(own.got).toHaveLength(1);
    expect(own.got[0]!.startsWith(`${subjects.workerInbox('acme', B)}.`)).toBe(true);
    expect(violations.get(a)).toEqual([]);
    own.sub.unsubscribe();
  });

  it("receives its own worker's events, and B cannot subscribe to them", async () => {
    const mine = recording(a, subjects.workerEvents('acme', A));
    const bOwn = recording(b, subjects.workerEvents('acme', B));
    const spies = [subjects.workerEvents('acme', A), 'overseer.evt.acme.>', 'overseer.evt.acme.worker.>'].map(
      (s) => recording(b, s),
    );
    await a.flush();
    await b.flush();
    for (const { sub } of spies) await refused(b, 'subscription', sub.getSubject());

    observer.publish(subjects.event('acme', 'worker', A, 'IDLE'), '{}');
    observer.publish(subjects.event('acme', 'worker', B, 'IDLE'), '{}');
    observer.publish(subjects.event('acme', 'job', 'job_1', 'QUEUED'), '{}');
    await observer.flush();
    await expect.poll(() => mine.got).toEqual([`overseer.evt.acme.worker.${A}.IDLE`]);
    await expect.poll(() => bOwn.got).toEqual([`overseer.evt.acme.worker.${B}.IDLE`]);
    await a.flush();
    await b.flush();
    expect(mine.got).toHaveLength(1); // not B's event, not job events
    expect(spies.flatMap((s) => s.got)).toEqual([]);
    mine.sub.unsubscribe();
    bOwn.sub.unsubscribe();
  });

  it('cannot publish a command outside its list, another workspace, events, or into inboxes', async () => {
    const outside = [
      subjects.command('acme', 'workers.pause'),
      subjects.command('acme', 'workers.register'),
      subjects.command('acme', 'jobs.submit'),
      subjects.command('beta', 'queue.claim'),
      subjects.event('acme', 'worker', A, 'TERMINATED'),
      `${subjects.workerInbox('acme', A)}.forged.1`,
    ];
    for (const subject of outside) b.publish(subject, '{}');
    // A request on a refused subject fails with the violation instead of waiting for its timeout.
    const err = await b.request(subjects.command('acme', 'workers.terminate'), '{}', { timeout: 2_000 }).then(
      () => undefined,
      (e: unknown) => (e as Error).cause,
    );
    expect(err).toBeInstanceOf(PermissionViolationError);
    for (const subject of outside) await refused(b, 'publish', subject);

    // Positive control: an allowed subject published the same way reaches the observer; the refused ones never did.
    const allowed = subjects.command('acme', 'queue.claim');
    b.publish(allowed, '{}');
    await expect.poll(() => commandsSeen).toContain(allowed);
    const seen = new Set(commandsSeen);
    expect(outside.filter((s) => seen.has(s))).toEqual([]);
    expect(seen.has(subjects.command('acme', 'workers.terminate'))).toBe(false);
  });

  it('gets no reply with the workspace inbox prefix: it must use its own', async () => {
    const stale = await client(B, PASS.b, subjects.workspaceInbox('acme'));
    const bToken = await tokenFor('acme', ROLES.agent, `agent-${B}`);
    const err = await call(
      stale,
      subjects.command('acme', 'auth.whoami'),
      {},
      { token: bToken, timeoutMs: 2_000 },
    ).then(
      () => undefined,
      (e: unknown) => (e as Error).cause,
    );
    expect(err).toBeInstanceOf(PermissionViolationError);
    expect(err).toMatchObject({ operation: 'subscription' });
  });
});

describe('workerPermissions and its subjects', () => {
  it('publishes exactly the commands an agent credential may run, one subject each, without workers.register', () => {
    const agent = { sub: 'agent', workspaceId: 'acme', scopes: ROLES.agent };
    const mayRun = commands
      .filter((c) => {
        try {
          authorize(agent, c.scopes);
          return true;
        } catch {
          return false;
        }
      })
      .map((c) => c.name)
      .filter((n) => n !== 'workers.register');
    expect([...agentCommandNames].sort()).toEqual(mayRun.sort());
    expect(agentCommandNames).toContain('queue.claim');
    expect(agentCommandNames).not.toContain('workers.pause');

    const { permissions } = natsUserFor({ workspace: 'acme', worker: A });
    expect(permissions.publish.allow).toEqual(agentCommandNames.map((n) => `overseer.cmd.acme.${n}`));
    expect(permissions.publish.allow.filter((s) => /[*>]/.test(s))).toEqual([]);
    expect(permissions.subscribe.allow).toEqual([`_INBOX_acme.${A}.>`, `overseer.evt.acme.worker.${A}.>`]);
    expect(permissions.allowResponses).toBeUndefined();
  });

  it("puts the worker's inbox inside its workspace's fence, which the data node answers unchanged", () => {
    expect(subjects.workerInbox('acme', A)).toBe(`_INBOX_acme.${A}`);
    const reply = `${subjects.workerInbox('acme', A)}.Nz8kLwqZ.1`;
    expect(replyAllowed(subjects.command('acme', 'queue.claim'), reply)).toBe(true);
    expect(replyAllowed(subjects.command('beta', 'queue.claim'), reply)).toBe(false);
  });
});

describe('overseer nats-config --worker', () => {
  function run(flags: Record<string, unknown>): { code: number; out: string; err: string } {
    let out = '';
    let err = '';
    const code = runNatsConfig(
      flags,
      (t) => (out += t),
      (t) => (err += t),
    );
    return { code, out, err };
  }

  it('names the user after the worker and tells which inbox prefix to use', () => {
    const res = run({ workspace: 'acme', worker: A });
    expect(res.code).toBe(0);
    expect(res.out).toContain(`user: "${A}"`);
    expect(res.out).toContain(`Clients must connect with inboxPrefix "_INBOX_acme.${A}"`);
    expect(run({ workspace: 'acme', worker: A, user: 'agent-1' }).out).toContain('user: "agent-1"');
  });

  it('needs --workspace with --worker, and refuses ids that are not worker ids', () => {
    const alone = run({ worker: A });
    expect(alone).toMatchObject({ code: 2, out: '' });
    expect(alone.err).toContain('--worker needs --workspace ID');
    for (const worker of ['job_01', 'wrk_', 'wrk_a.b', 'wrk_>', 'wrk_a*', `wrk_${'x'.repeat(65)}`, true]) {
      const r = run({ workspace: 'acme', worker });
      expect({ worker, code: r.code, out: r.out }).toEqual({ worker, code: 2, out: '' });
      expect(r.err).toContain('Invalid --worker');
    }
    expect(run({ worker: A, dataNode: true }).code).toBe(2);
    expect(run({ workspace: 'acme', worker: A, gateway: true }).code).toBe(2);
    expect(run({ workspace: 'Bad!', worker: A }).err).toContain('Invalid --workspace');
  });
});
