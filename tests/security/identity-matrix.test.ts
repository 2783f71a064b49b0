/**
 * The identity matrix of issue 15: every command that takes a worker id, a job id, a session id or a lease, over
 * HTTP, NATS and the library, called by each kind of caller; the outcome each should get comes from the rule
 * table below (written from the issue, not read from the code under test). Refused calls run together on one
 * fixture per command, and must leave its objects' states and journal as they were; each allowed write runs on a
 * fixture of its own.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyCommandDef } from '../../src/api/command.ts';
import { commands } from '../../src/api/commands.ts';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import { ROLES } from '../../src/contracts/scopes.ts';
import { fixtures, type Makers, type ObjectRef, type Prepared } from './identity-fixtures.ts';
import {
  httpTransport,
  libraryTransport,
  natsTransport,
  type Channel,
  type Result,
  type Transport,
} from './identity-transports.ts';

// ── the rules ────────────────────────────────────────────────────────────────

/** A role of `ROLES` whose scopes open a command (`agent`: a worker's credential and unbound agent tokens). */
type Role = 'agent' | 'operator' | 'viewer';

interface Rule {
  /** The roles whose scopes open the command (an admin's open every one). */
  opens: readonly Role[];
  /** What it acts on: the worker that is, or that holds the job or session, is the one a caller must own. */
  on: 'worker' | 'job' | 'session' | 'nothing';
  /** A read: it changes nothing, and a viewer may run it when its scopes open it. */
  read?: true;
  /** It takes the lease's secret as `leaseToken`. */
  lease?: true;
  /** Only a token bound to no worker may run it (registering workers). */
  unbound?: true;
}

const WORK = ['agent', 'operator'] as const;

/** What each command of the matrix allows, per the roles and ownership rules. */
const RULES: Record<string, Rule> = {
  'jobs.get': { opens: ['operator', 'viewer'], on: 'job', read: true },
  'jobs.cancel': { opens: ['operator'], on: 'job' },
  'jobs.update': { opens: ['operator'], on: 'job' },
  // Releasing a held job is submitting work: an operator's, never an agent's (it holds no such job).
  'queue.enqueue': { opens: ['operator'], on: 'job' },
  'queue.claim': { opens: WORK, on: 'worker' },
  'queue.complete': { opens: WORK, on: 'job', lease: true },
  'queue.fail': { opens: WORK, on: 'job', lease: true },
  'queue.heartbeat': { opens: WORK, on: 'worker', lease: true },
  // The operator role holds `resources:read` only.
  'resources.allocate': { opens: ['agent'], on: 'job' },
  'resources.release': { opens: ['agent'], on: 'job' },
  'workers.register': { opens: ['agent'], on: 'nothing', unbound: true },
  'workers.credential': { opens: WORK, on: 'worker' },
  'workers.get': { opens: ['operator', 'viewer'], on: 'worker', read: true },
  'workers.pause': { opens: ['operator'], on: 'worker' },
  'workers.resume': { opens: ['operator'], on: 'worker' },
  'workers.terminate': { opens: ['operator'], on: 'worker' },
  'workers.heartbeat': { opens: WORK, on: 'worker', lease: true },
  'workers.reportCrash': { opens: WORK, on: 'worker' },
  'workers.restart': { opens: WORK, on: 'worker' },
  'workers.deregister': { opens: WORK, on: 'worker' },
  'sessions.open': { opens: WORK, on: 'worker' },
  'sessions.get': { opens: ['agent', 'operator', 'viewer'], on: 'session', read: true },
  'sessions.touch': { opens: WORK, on: 'session' },
  'sessions.idle': { opens: WORK, on: 'session' },
  'sessions.close': { opens: WORK, on: 'session' },
  // With an API token or credential (besides the phase token): the lease holder's, or a supervisor's.
  'tokens.refresh': { opens: WORK, on: 'job' },
  // The job's workflow rendered for its agent: the lease holder, and whoever reads jobs.
  'workflow.contract': { opens: ['agent', 'operator', 'viewer'], on: 'job', read: true },
};

/** Who calls. */
const CALLERS = [
  /** The credential of the worker the call acts on. */
  'own',
  /** The credential of another worker of the workspace. */
  'otherWorker',
  /** An unbound token with the agent's scopes, of the subject that registered the worker. */
  'registrar',
  /** An unbound token with the agent's scopes, of a subject that registered other workers only. */
  'stranger',
  'operator',
  'viewer',
  /** The credential of a worker that was terminated. */
  'revokedTerminated',
  /** The credential of a worker that was deregistered and so COMPLETED. */
  'revokedCompleted',
  /** The worker's own credential presenting a lease secret that is not its lease's. */
  'wrongLease',
  /** An admin of another workspace (calling in its own workspace with this one's ids). */
  'foreignAdmin',
] as const;
type Caller = (typeof CALLERS)[number];

type Expected = 'ok' | { status: number; code: string };
const refused = (status: number, code: string): Expected => ({ status, code });
const SCOPE = refused(403, 'INSUFFICIENT_SCOPE');
const NOT_YOURS = refused(403, 'NOT_YOUR_WORKER');

/** The outcome the rules give `caller` on a command (undefined: the caller does not apply). */
function expected(rule: Rule, caller: Caller): Expected | undefined {
  const agent = rule.opens.includes('agent');
  const owned = rule.on !== 'nothing';
  switch (caller) {
    case 'own':
      return agent && !rule.unbound ? 'ok' : SCOPE;
    case 'otherWorker':
      return !agent || rule.unbound ? SCOPE : owned ? NOT_YOURS : 'ok';
    case 'registrar':
      return agent ? 'ok' : SCOPE;
    case 'stranger':
      return !agent ? SCOPE : owned ? NOT_YOURS : 'ok';
    case 'operator':
      return rule.opens.includes('operator') ? 'ok' : SCOPE;
    case 'viewer':
      return rule.opens.includes('viewer') ? 'ok' : SCOPE;
    case 'revokedTerminated':
    case 'revokedCompleted':
      return refused(401, 'UNAUTHENTICATED');
    case 'wrongLease':
      return rule.lease ? refused(409, 'LEASE_LOST') : undefined;
    case 'foreignAdmin':
      return owned ? refused(404, 'NOT_FOUND') : 'ok';
  }
}

// ── the commands ─────────────────────────────────────────────────────────────

const IDENTITY_FIELDS = ['workerId', 'jobId', 'sessionId', 'leaseToken'];
const fieldsOf = (c: AnyCommandDef): string[] =>
  'shape' in c.input ? Object.keys(c.input.shape as Record<string, unknown>) : [];
/** The commands of the table that take a worker id, a job id, a session id or a lease, or name an owner. */
/** Commands only a phase or check token opens: they take no API token (tests/workflow/transition.test.ts). */
const tokenOnly = (c: AnyCommandDef) =>
  (c.tokens !== undefined && c.tokens.apiTokens !== true) ||
  // The lease holder's own credential only (no supervisor, no runner): tests/workflow/evidence.test.ts.
  c.name === 'workflow.evidence';
const MATRIX = commands.filter(
  (c) => !tokenOnly(c) && (c.owner !== undefined || fieldsOf(c).some((f) => IDENTITY_FIELDS.includes(f))),
);
const ruleOf = (c: AnyCommandDef): Rule => RULES[c.name]!;

describe('the identity matrix', () => {
  it('covers exactly the commands that take a worker id, a job id, a session id or a lease', () => {
    for (const c of commands) expect(c.input, `${c.name}'s input is an object`).toHaveProperty('shape');
    const names = MATRIX.map((c) => c.name).sort();
    expect(Object.keys(RULES).sort()).toEqual(names);
    expect(Object.keys(fixtures).sort()).toEqual(names);
  });

  it('gives a viewer reads only, and a lease secret only to the commands that take one', () => {
    for (const c of MATRIX) {
      const rule = ruleOf(c);
      if (rule.opens.includes('viewer')) expect(rule.read, c.name).toBe(true);
      expect(rule.read === true, c.name).toBe(!c.mutates);
      expect(rule.lease === true, c.name).toBe(fieldsOf(c).includes('leaseToken'));
    }
  });
});

// ── one transport ────────────────────────────────────────────────────────────

/** The tokens and credentials of every caller but the per-fixture ones (`own`, `wrongLease`). */
interface Callers {
  ws: string;
  foreignWs: string;
  tokens: Record<Exclude<Caller, 'own' | 'wrongLease'>, string>;
  /** The library clients fixtures are made with (the registrar's, an admin's) and states read with. */
  makers: Makers;
}

/** A call of a case: who, with which token and input, in which workspace. */
function request(callers: Callers, caller: Caller, prepared: Prepared) {
  if (caller === 'own') return { token: prepared.credential, input: prepared.input, ws: callers.ws };
  if (caller === 'wrongLease')
    return {
      token: prepared.credential,
      input: { ...prepared.input, leaseToken: randomBytes(16).toString('base64url') },
      ws: callers.ws,
    };
  const ws = caller === 'foreignAdmin' ? callers.foreignWs : callers.ws;
  return { token: callers.tokens[caller], input: prepared.input, ws };
}

const show = (e: Expected | Result): string =>
  e === 'ok' || ('ok' in e && e.ok) ? 'ok' : `${e.status} ${e.code}`;
const matches = (e: Expected, r: Result): boolean =>
  e === 'ok' ? r.ok : !r.ok && r.status === e.status && r.code === e.code;

let wsCounter = 0;

/**
 * The callers of a fresh workspace: the registrar's and a stranger's unbound agent tokens, an operator, a viewer,
 * another workspace's admin, and the credentials (from their register answers) of another worker, of a worker
 * terminated and of a worker deregistered (so COMPLETED).
 */
async function setUpCallers(t: Transport): Promise<Callers> {
  const ws = `matrix-${t.name}-${process.pid}-${++wsCounter}`;
  const foreignWs = `${ws}-foreign`;
  const registrar = await t.token(ws, ROLES.agent, 'registrar');
  const makers: Makers = {
    registrar: t.ov.workspace(ws, { principal: await t.ov.authenticate(registrar) }),
    admin: t.ov.workspace(ws, { principal: { sub: 'matrix-admin', workspaceId: ws, scopes: ['admin'] } }),
  };
  const [other, ended, drained] = await Promise.all(
    ['other', 'terminated', 'deregistered'].map((name) => makers.registrar.workers.register({ name })),
  );
  expect((await makers.admin.workers.terminate(ended!.id)).status).toBe('TERMINATED');
  expect((await makers.admin.workers.deregister(drained!.id)).status).toBe('COMPLETED');
  return {
    ws,
    foreignWs,
    makers,
    tokens: {
      otherWorker: other!.credential.token,
      registrar,
      stranger: await t.token(ws, ROLES.agent, 'stranger'),
      operator: await t.token(ws, ROLES.operator, 'operator'),
      viewer: await t.token(ws, ROLES.viewer, 'viewer'),
      revokedTerminated: ended!.credential.token,
      revokedCompleted: drained!.credential.token,
      foreignAdmin: await t.token(foreignWs, ['admin'], 'foreign-admin'),
    },
  };
}

/** What a refused call must not change: each object's view, and how many journal records name it. */
async function stateOf(admin: WorkspaceClient, objects: readonly ObjectRef[]) {
  const journal = new Map<string, number>();
  for (let afterSeq = 0; ;) {
    const page = await admin.events.list({ afterSeq, limit: 500 });
    for (const r of page.events) journal.set(r.id, (journal.get(r.id) ?? 0) + 1);
    if (page.events.length < 500) break;
    afterSeq = page.events[page.events.length - 1]!.seq;
  }
  const view = (o: ObjectRef): Promise<unknown> =>
    o.kind === 'worker'
      ? admin.workers.get(o.id)
      : o.kind === 'job'
        ? admin.jobs.get(o.id)
        : admin.sessions.get(o.id);
  return Promise.all(
    objects.map(async (o) => ({ ...o, view: await view(o), records: journal.get(o.id) ?? 0 })),
  );
}

const TRANSPORTS: Record<Transport['name'], () => Promise<Transport>> = {
  http: httpTransport,
  nats: natsTransport,
  library: libraryTransport,
};

describe.each(Object.keys(TRANSPORTS) as Transport['name'][])('over %s', (name) => {
  let t: Transport;
  let callers: Callers;
  let channels: Channel[];
  beforeAll(async () => {
    t = await TRANSPORTS[name]();
    callers = await setUpCallers(t);
    channels = t.channels(MATRIX, fixtures);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses each caller the rules refuse, with their code, and the refused calls change nothing', async () => {
    const { makers } = callers;
    const shared = await Promise.all(channels.map((ch) => fixtures[ch.command.name]!.prepare(makers)));
    const objects = shared.flatMap((p) => p.objects);
    const before = await stateOf(makers.admin, objects);
    const cases = channels.flatMap((ch, i) =>
      CALLERS.map((caller) => ({
        ch,
        caller,
        want: expected(ruleOf(ch.command), caller),
        prepared: shared[i]!,
      }))
        // Refusals, and reads (which change nothing either), on the fixture every such caller shares.
        .filter((c) => c.want !== undefined && (c.want !== 'ok' || !c.ch.command.mutates)),
    );
    const wrong: string[] = [];
    await Promise.all(
      cases.map(async ({ ch, caller, want, prepared }) => {
        const { token, input, ws } = request(callers, caller, prepared);
        const got = await ch.call(input, token, ws);
        if (!matches(want!, got))
          wrong.push(`${ch.label} · ${caller}: expected ${show(want!)}, got ${show(got)}`);
      }),
    );
    expect.soft(wrong.sort()).toEqual([]);
    expect(cases.filter((c) => c.want !== 'ok').length).toBeGreaterThan(channels.length * 5);
    expect(await stateOf(makers.admin, objects)).toEqual(before);
  });

  it('allows each caller the rules allow, each write on objects of its own', async () => {
    const cases = channels.flatMap((ch) =>
      CALLERS.filter((caller) => ch.command.mutates && expected(ruleOf(ch.command), caller) === 'ok').map(
        (caller) => ({ ch, caller }),
      ),
    );
    const wrong: string[] = [];
    await Promise.all(
      cases.map(async ({ ch, caller }) => {
        const prepared = await fixtures[ch.command.name]!.prepare(callers.makers);
        const { token, input, ws } = request(callers, caller, prepared);
        const got = await ch.call(input, token, ws);
        if (!got.ok) wrong.push(`${ch.label} · ${caller}: expected ok, got ${show(got)}`);
        else if (!ch.command.output.safeParse(got.answer).success)
          wrong.push(`${ch.label} · ${caller}: the answer is not the command's`);
      }),
    );
    expect(wrong.sort()).toEqual([]);
    expect(cases.length).toBeGreaterThan(channels.length);
  });
});
