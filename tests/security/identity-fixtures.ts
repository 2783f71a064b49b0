/**
 * Per-command fixtures of the identity matrix: each prepares, with library clients, the objects one command acts
 * on (a worker registered by the registrar's unbound token, the job it holds under a lease, its session), and
 * answers the command's input, the credential of the worker it acts on (from the register answer), and the
 * objects a refused call must leave as they were. Every job and worker carries a capability of its own, so
 * fixtures sharing a workspace never claim each other's jobs.
 */
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';

/** An object a command acts on. */
export interface ObjectRef {
  kind: 'worker' | 'job' | 'session';
  id: string;
}

/** What one fixture made. */
export interface Prepared {
  /** The command's input, which succeeds for a caller the rules allow. */
  input: Record<string, unknown>;
  /** The own credential of the worker the call acts on (the one holding the job, lease or session it names). */
  credential: string;
  /** What the call acts on: a refused call must leave each of these unchanged. */
  objects: ObjectRef[];
}

/** The library clients fixtures are made with. */
export interface Makers {
  /** Under the registrar's unbound agent token: it registers the workers, which it then owns. */
  registrar: WorkspaceClient;
  /** An admin of the workspace: jobs, claims, sessions and the states the commands need. */
  admin: WorkspaceClient;
}

/** How to set up one command, and how the library client calls it. */
export interface CommandFixture {
  prepare(m: Makers): Promise<Prepared>;
  /** The call through the library client's own method for the command. */
  library(c: WorkspaceClient, input: Record<string, unknown>): Promise<unknown>;
}

let counter = 0;
/** A capability (and lock name part) no other fixture of this process uses. */
const unique = (what: string) => `${what}-${process.pid}-${++counter}`;

const str = (value: unknown): string => String(value);

/** A worker that runs only jobs of its own capability. */
async function worker(m: Makers) {
  const capability = unique('cap');
  const w = await m.registrar.workers.register({ name: 'matrix worker', capabilities: [capability] });
  return {
    workerId: w.id,
    credential: w.credential.token,
    capability,
    objects: [{ kind: 'worker', id: w.id }] as ObjectRef[],
  };
}

/** A worker and a job only it may run, QUEUED (or SUBMITTED when held). */
async function withJob(m: Makers, hold = false, workflow?: string) {
  const w = await worker(m);
  const job = await m.admin.jobs.submit({
    title: 'matrix job',
    capabilities: [w.capability],
    hold,
    ...(workflow ? { workflow } : {}),
  });
  return { ...w, jobId: job.id, objects: [...w.objects, { kind: 'job', id: job.id } as ObjectRef] };
}

/** A worker holding a RUNNING job, and the lease secret of its claim. */
async function running(m: Makers, workflow?: string) {
  const w = await withJob(m, false, workflow);
  const claim = await m.admin.queue.claim({ workerId: w.workerId });
  if (claim.job?.id !== w.jobId || !claim.lease) throw new Error('fixture: the claim did not get its job');
  return { ...w, leaseToken: claim.lease.token };
}

/** A worker with an ACTIVE session. */
async function withSession(m: Makers) {
  const w = await worker(m);
  const session = await m.admin.sessions.open({ workerId: w.workerId });
  return {
    ...w,
    sessionId: session.id,
    objects: [...w.objects, { kind: 'session', id: session.id } as ObjectRef],
  };
}

const prepared = (
  w: { credential: string; objects: ObjectRef[] },
  input: Record<string, unknown>,
): Prepared => ({ input, credential: w.credential, objects: w.objects });

const onWorker = (library: CommandFixture['library']): CommandFixture => ({
  async prepare(m) {
    const w = await worker(m);
    return prepared(w, { workerId: w.workerId });
  },
  library,
});

const onSession = (library: CommandFixture['library']): CommandFixture => ({
  async prepare(m) {
    const s = await withSession(m);
    return prepared(s, { sessionId: s.sessionId });
  },
  library,
});

/** A job RUNNING under a lease; the input names the job (and `more` of the fixture). */
const onRunningJob = (
  more: (r: Awaited<ReturnType<typeof running>>) => Record<string, unknown>,
  library: CommandFixture['library'],
): CommandFixture => ({
  async prepare(m) {
    const r = await running(m);
    return prepared(r, { jobId: r.jobId, ...more(r) });
  },
  library,
});

/** A heartbeat with the lease of the worker's RUNNING job. */
const heartbeat = (library: CommandFixture['library']): CommandFixture => ({
  async prepare(m) {
    const r = await running(m);
    return prepared(r, { workerId: r.workerId, leaseToken: r.leaseToken });
  },
  library,
});

/** One fixture per command of the matrix, by command name. */
export const fixtures: Record<string, CommandFixture> = {
  'tokens.refresh': {
    async prepare(m) {
      const r = await running(m, 'default');
      return prepared(r, { jobId: r.jobId });
    },
    library: (c, i) => c.workflow.refreshTokens(str(i['jobId'])),
  },
  'workflow.contract': {
    async prepare(m) {
      const r = await running(m, 'default');
      return prepared(r, { jobId: r.jobId });
    },
    library: (c, i) => c.workflow.contract(str(i['jobId'])),
  },
  'jobs.get': onRunningJob(
    () => ({}),
    (c, i) => c.jobs.get(str(i['jobId'])),
  ),
  'jobs.cancel': onRunningJob(
    () => ({ reason: 'matrix' }),
    (c, i) => c.jobs.cancel(str(i['jobId']), { reason: str(i['reason']) }),
  ),
  'jobs.update': {
    async prepare(m) {
      const w = await withJob(m);
      return prepared(w, { jobId: w.jobId, title: 'renamed' });
    },
    library: (c, i) => c.jobs.update(str(i['jobId']), { title: str(i['title']) }),
  },
  'queue.enqueue': {
    async prepare(m) {
      const w = await withJob(m, true);
      return prepared(w, { jobId: w.jobId });
    },
    library: (c, i) => c.queue.enqueue({ jobId: str(i['jobId']) }),
  },
  'queue.claim': {
    async prepare(m) {
      const w = await withJob(m);
      return prepared(w, { workerId: w.workerId, waitMs: 0 });
    },
    library: (c, i) => c.queue.claim({ workerId: str(i['workerId']), waitMs: 0 }),
  },
  'queue.complete': onRunningJob(
    (r) => ({ leaseToken: r.leaseToken, result: { ok: true } }),
    (c, i) =>
      c.queue.complete({ jobId: str(i['jobId']), leaseToken: str(i['leaseToken']), result: i['result'] }),
  ),
  'queue.fail': onRunningJob(
    (r) => ({ leaseToken: r.leaseToken, reason: 'tests failed' }),
    (c, i) =>
      c.queue.fail({ jobId: str(i['jobId']), leaseToken: str(i['leaseToken']), reason: str(i['reason']) }),
  ),
  'queue.heartbeat': heartbeat((c, i) =>
    c.queue.heartbeat({ workerId: str(i['workerId']), leaseToken: str(i['leaseToken']) }),
  ),
  'resources.allocate': onRunningJob(
    () => ({ resources: [{ name: `repo:${unique('lock')}` }] }),
    (c, i) =>
      c.resources.allocate({ jobId: str(i['jobId']), resources: i['resources'] as { name: string }[] }),
  ),
  'resources.release': {
    async prepare(m) {
      const r = await running(m);
      const resources = [{ name: `repo:${unique('lock')}` }];
      await m.admin.resources.allocate({ jobId: r.jobId, resources });
      return prepared(r, { jobId: r.jobId, resources });
    },
    library: (c, i) =>
      c.resources.release({ jobId: str(i['jobId']), resources: i['resources'] as { name: string }[] }),
  },
  'workers.register': {
    // It names no object: the worker only lends its credential to the "own credential" caller.
    async prepare(m) {
      const w = await worker(m);
      return {
        input: { name: 'matrix agent', capabilities: [unique('cap')] },
        credential: w.credential,
        objects: [],
      };
    },
    library: (c, i) =>
      c.workers.register({ name: str(i['name']), capabilities: i['capabilities'] as string[] }),
  },
  'workers.credential': {
    async prepare(m) {
      const w = await worker(m);
      return prepared(w, { workerId: w.workerId });
    },
    library: (c, i) => c.workers.credential(str(i['workerId'])),
  },
  'workers.get': onWorker((c, i) => c.workers.get(str(i['workerId']))),
  'workers.pause': onWorker((c, i) => c.workers.pause(str(i['workerId']))),
  'workers.resume': {
    async prepare(m) {
      const w = await worker(m);
      await m.admin.workers.pause(w.workerId);
      return prepared(w, { workerId: w.workerId });
    },
    library: (c, i) => c.workers.resume(str(i['workerId'])),
  },
  'workers.terminate': {
    async prepare(m) {
      const w = await worker(m);
      return prepared(w, { workerId: w.workerId, reason: 'matrix' });
    },
    library: (c, i) => c.workers.terminate(str(i['workerId']), { reason: str(i['reason']) }),
  },
  'workers.heartbeat': heartbeat((c, i) =>
    c.workers.heartbeat(str(i['workerId']), { leaseToken: str(i['leaseToken']) }),
  ),
  'workers.reportCrash': {
    async prepare(m) {
      const r = await running(m);
      return prepared(r, { workerId: r.workerId, reason: 'agent died' });
    },
    library: (c, i) => c.workers.reportCrash(str(i['workerId']), { reason: str(i['reason']) }),
  },
  'workers.restart': {
    async prepare(m) {
      const r = await running(m);
      await m.admin.workers.reportCrash(r.workerId, { reason: 'agent died' });
      return prepared(r, { workerId: r.workerId });
    },
    library: (c, i) => c.workers.restart(str(i['workerId'])),
  },
  'workers.deregister': onWorker((c, i) => c.workers.deregister(str(i['workerId']))),
  'sessions.open': onWorker((c, i) => c.sessions.open({ workerId: str(i['workerId']) })),
  'sessions.get': onSession((c, i) => c.sessions.get(str(i['sessionId']))),
  'sessions.touch': onSession((c, i) => c.sessions.touch(str(i['sessionId']))),
  'sessions.idle': onSession((c, i) => c.sessions.idle(str(i['sessionId']))),
  'sessions.close': onSession((c, i) => c.sessions.close(str(i['sessionId']))),
};
