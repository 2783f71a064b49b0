/**
 * The reference model of work distribution for `model.property.test.ts`.
 *
 * It is small on purpose: it does not re-implement the lifecycles. Job and worker states come from the journal,
 * record by record (`apply`), and the model checks each record against what DESIGN §1 allows (a legal edge, out
 * of the state the model holds, never out of a final state, a parent completing only when its children are
 * final, a lapsed lease re-queuing only while retries last). What the model does compute on its own:
 *
 * - the resource ledger (what every running job holds), from claims, allocations, releases and the journal;
 * - which queued job a claim must hand out (priority, then arrival, then the first that matches the worker's
 *   capabilities and fits the quotas, pools and locks);
 * - the answer every command must give from the state before it (success or which error code);
 * - lease deadlines and retry backoffs, so a lapse or a backoff that did not fire is caught;
 * - the fencing tokens handed out (strictly increasing) and which were revoked.
 */
import type { JobStatus, Priority, ResourceRequest } from '../../src/contracts/job.ts';
import type { JournalRecord } from '../../src/contracts/journal.ts';
import type { WorkerStatus } from '../../src/contracts/worker.ts';

export const WS = 'model';
export const LEASE_SECONDS = 30;
export const LEASE_MS = LEASE_SECONDS * 1000;
export const MAX_DEPTH = 5;
export const POOL = 'gpu';
export const POOL_SIZE = 2;

/** Small quotas, so that QUOTA behaviour matters. */
export const RESOURCES = {
  depth: [
    { maxRunningJobs: 2, maxWorkerSlots: 3 },
    { maxRunningJobs: 2, maxWorkerSlots: 3 },
    { maxRunningJobs: 1, maxWorkerSlots: 2 },
    { maxRunningJobs: 1, maxWorkerSlots: 2 },
    { maxRunningJobs: 1, maxWorkerSlots: 2 },
    { maxRunningJobs: 1, maxWorkerSlots: 2 },
  ],
  workspace: { maxRunningJobs: 4, maxWorkerSlots: 3 },
  pools: { [POOL]: POOL_SIZE },
};

export const FINAL: readonly string[] = ['COMPLETED', 'FAILED', 'CANCELED', 'BLOCKED'];
export const isFinal = (s: string | null): boolean => s !== null && FINAL.includes(s);
const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };
const BLOCKING: readonly string[] = ['FAILED', 'CANCELED', 'BLOCKED'];
/** Job events that revoke the lease of the worker holding the job (its heartbeat then answers `cancel`). */
const REVOKING = new Set(['CANCEL', 'REQUEUE', 'TIMEOUT', 'CHILD_FAILED']);

/** What a test submits (the model's copy of the spec). */
export interface JobSpec {
  title: string;
  priority: Priority;
  parentJobId?: string;
  dependsOn: string[];
  capabilities: string[];
  resources: ResourceRequest[];
  workerCount: number;
  maxRetries: number;
  failParentOnFailure: boolean;
  /** execution.timeoutSeconds: the attempt fails (and its lease is revoked) this long after the claim. */
  timeoutSeconds?: number;
}

export interface MJob {
  id: string;
  spec: JobSpec;
  parent: string | null;
  depth: number;
  /** Parent first. */
  ancestors: string[];
  children: string[];
  status: JobStatus | null;
  retryCount: number;
  /** Position in the queue (order of entering QUEUED); -1 when not queued. */
  arrival: number;
  workerId: string | null;
  token: string | null;
  leaseDue: number | null;
  /** When the running attempt times out (execution.timeoutSeconds), if it has a timeout. */
  timeoutDue: number | null;
  ownPartDone: boolean;
  retryWaitSince: number | null;
  finalRecords: number;
  claims: number;
  requeues: number;
  /** lock → the job whose allocation holds it for this running job (itself or an ancestor). */
  provides: Map<string, string>;
}

export interface MWorker {
  id: string;
  capabilities: string[];
  status: WorkerStatus | null;
  jobId: string | null;
  token: string | null;
  revoked: string | null;
  pendingResume: boolean;
}

export interface MAlloc {
  jobId: string;
  depth: number;
  running: boolean;
  workerSlots: number;
  locks: string[];
  pools: Record<string, number>;
}

export interface LedgerRequest {
  jobId: string;
  depth: number;
  ancestors: readonly string[];
  running: boolean;
  workerSlots: number;
  resources: readonly ResourceRequest[];
}

/** A lease the test was handed: complete/fail/heartbeat may send it while it is current or long after. */
export interface Issued {
  token: string;
  jobId: string;
  workerId: string;
}

/** Claims a command may make while its records are applied. */
export interface ClaimContext {
  workerId: string;
  /** The lease secret, fence and job the command's answer carries (checked against the record). */
  token: string | undefined;
  fence: number | undefined;
  jobId: string | undefined;
}

export type ResourceKind = 'pool' | 'path' | 'lock';
export const kindOf = (name: string): ResourceKind =>
  name.startsWith('path:') ? 'path' : name === POOL ? 'pool' : 'lock';
const conflict = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

const JOB_EDGES: Record<string, readonly string[]> = {
  'null>SUBMITTED': ['jobs.submit'],
  'SUBMITTED>PENDING': ['ENQUEUE'],
  'SUBMITTED>QUEUED': ['ENQUEUE'],
  'SUBMITTED>BLOCKED': ['DEPENDENCY_FAILED'],
  'SUBMITTED>CANCELED': ['CANCEL'],
  'PENDING>QUEUED': ['DEPENDENCIES_MET'],
  'PENDING>BLOCKED': ['DEPENDENCY_FAILED'],
  'PENDING>CANCELED': ['CANCEL'],
  'QUEUED>RUNNING': ['CLAIM'],
  'QUEUED>CANCELED': ['CANCEL'],
  'RUNNING>RUNNING': ['COMPLETE'],
  'RUNNING>COMPLETED': ['COMPLETE', 'CHILDREN_SETTLED'],
  'RUNNING>FAILED': ['FAIL', 'LEASE_EXPIRED', 'CHILD_FAILED', 'TIMEOUT'],
  'RUNNING>RETRY_WAIT': ['FAIL', 'TIMEOUT'],
  'RUNNING>QUEUED': ['LEASE_EXPIRED', 'REQUEUE'],
  'RUNNING>CANCELED': ['CANCEL'],
  'RETRY_WAIT>QUEUED': ['RETRY'],
  'RETRY_WAIT>CANCELED': ['CANCEL'],
  // A failed child (failParentOnFailure) fails its parent from any non-final state.
  'SUBMITTED>FAILED': ['CHILD_FAILED'],
  'PENDING>FAILED': ['CHILD_FAILED'],
  'QUEUED>FAILED': ['CHILD_FAILED'],
  'RETRY_WAIT>FAILED': ['CHILD_FAILED'],
};

const WORKER_EDGES: Record<string, readonly string[]> = {
  'null>IDLE': ['workers.register'],
  'IDLE>RUNNING': ['CLAIMED'],
  'RUNNING>IDLE': ['JOB_ENDED'],
  'PAUSED>PAUSED': ['JOB_ENDED'],
  'IDLE>PAUSED': ['PAUSE'],
  'RUNNING>PAUSED': ['PAUSE'],
  'PAUSED>IDLE': ['RESUME'],
  'PAUSED>RUNNING': ['RESUME'],
  'IDLE>TERMINATED': ['TERMINATE'],
  'RUNNING>TERMINATED': ['TERMINATE'],
  'PAUSED>TERMINATED': ['TERMINATE'],
};

/** A broken invariant; `tag` names it, so a known bug can be set aside while exploring (MODEL_IGNORE). */
export interface Violation {
  tag: string;
  message: string;
}

export class Model {
  readonly jobs = new Map<string, MJob>();
  readonly jobOrder: string[] = [];
  readonly workers = new Map<string, MWorker>();
  readonly workerOrder: string[] = [];
  readonly allocs = new Map<string, MAlloc>();
  readonly issued: Issued[] = [];
  lastSeq = 0;
  lastToken = 0;
  private arrivals = 0;
  readonly violations: Violation[] = [];
  /** Jobs whose lapse the known bug `child-failed-refused` left RUNNING (so later checks keep that tag). */
  readonly stuck = new Set<string>();
  /** Set by the runner while it applies the records of a command that may claim. */
  claimContext: ClaimContext | null = null;
  /** The job ids claimed while applying the last batch of records. */
  claimedNow: string[] = [];

  flag(tag: string, message: string): void {
    this.violations.push({ tag, message });
  }

  // ── registration (from command answers) ──────────────────────────────────

  addJob(id: string, spec: JobSpec): MJob {
    const parent = spec.parentJobId !== undefined ? this.jobs.get(spec.parentJobId)! : null;
    const job: MJob = {
      id,
      spec,
      parent: parent?.id ?? null,
      depth: parent ? parent.depth + 1 : 0,
      ancestors: parent ? [parent.id, ...parent.ancestors] : [],
      children: [],
      status: null,
      retryCount: 0,
      arrival: -1,
      workerId: null,
      token: null,
      leaseDue: null,
      timeoutDue: null,
      ownPartDone: false,
      retryWaitSince: null,
      finalRecords: 0,
      claims: 0,
      requeues: 0,
      provides: new Map(),
    };
    parent?.children.push(id);
    this.jobs.set(id, job);
    this.jobOrder.push(id);
    return job;
  }

  addWorker(id: string, capabilities: string[]): void {
    this.workers.set(id, {
      id,
      capabilities,
      status: null,
      jobId: null,
      token: null,
      revoked: null,
      pendingResume: false,
    });
    this.workerOrder.push(id);
  }

  job(id: string): MJob {
    const j = this.jobs.get(id);
    if (!j) throw new Error(`model: unknown job ${id}`);
    return j;
  }

  worker(id: string): MWorker {
    const w = this.workers.get(id);
    if (!w) throw new Error(`model: unknown worker ${id}`);
    return w;
  }

  // ── the ledger ────────────────────────────────────────────────────────────

  private holderOf(lock: string): MAlloc | undefined {
    for (const a of this.allocs.values()) if (a.locks.includes(lock)) return a;
    return undefined;
  }

  private normalize(resources: readonly ResourceRequest[]): { name: string; count: number }[] {
    const out = new Map<string, number>();
    for (const r of resources) {
      if (kindOf(r.name) === 'pool') out.set(r.name, (out.get(r.name) ?? 0) + (r.count ?? 1));
      else out.set(r.name, 1);
    }
    return [...out].map(([name, count]) => ({ name, count }));
  }

  /**
   * Whether a request fits now (`never`: it cannot fit whatever is released), and the jobs holding what is busy
   * (quotas have no holders; a pool's holders are every other job with units of it, ancestors included; a lock's
   * holder is never the job or an ancestor, whose locks are re-entrant).
   */
  fits(req: LedgerRequest): { ok: boolean; never: boolean; holders: string[] } {
    const all = [...this.allocs.values()];
    const mine = new Set([req.jobId, ...req.ancestors]);
    const dq = RESOURCES.depth[req.depth]!;
    const wq = RESOURCES.workspace;
    let ok = true;
    let never = false;
    const holders = new Set<string>();
    const busy = (n: boolean, by: readonly string[] = []) => {
      ok = false;
      never ||= n;
      for (const h of by) holders.add(h);
    };
    if (req.running && !this.allocs.get(req.jobId)?.running) {
      if (all.filter((a) => a.running && a.depth === req.depth).length + 1 > dq.maxRunningJobs)
        busy(dq.maxRunningJobs < 1);
      if (all.filter((a) => a.running).length + 1 > wq.maxRunningJobs) busy(wq.maxRunningJobs < 1);
    }
    if (req.workerSlots > 0) {
      const atDepth = all.filter((a) => a.depth === req.depth).reduce((n, a) => n + a.workerSlots, 0);
      const total = all.reduce((n, a) => n + a.workerSlots, 0);
      if (atDepth + req.workerSlots > dq.maxWorkerSlots) busy(req.workerSlots > dq.maxWorkerSlots);
      if (total + req.workerSlots > wq.maxWorkerSlots) busy(req.workerSlots > wq.maxWorkerSlots);
    }
    for (const { name, count } of this.normalize(req.resources)) {
      const kind = kindOf(name);
      if (kind === 'pool') {
        const used = all.reduce((n, a) => n + (a.pools[name] ?? 0), 0);
        if (used + count > POOL_SIZE)
          busy(
            count > POOL_SIZE,
            all.filter((a) => (a.pools[name] ?? 0) > 0 && a.jobId !== req.jobId).map((a) => a.jobId),
          );
      } else if (kind === 'lock') {
        const holder = this.holderOf(name);
        if (holder && !mine.has(holder.jobId)) busy(false, [holder.jobId]);
      } else {
        const clash = all.filter(
          (a) => !mine.has(a.jobId) && a.locks.some((l) => kindOf(l) === 'path' && conflict(l, name)),
        );
        if (clash.length > 0)
          busy(
            false,
            clash.map((a) => a.jobId),
          );
      }
    }
    return { ok, never, holders: [...holders] };
  }

  /**
   * What an allocate that may not wait answers: granted, `QUOTA_EXCEEDED` (busy, or it can never fit), or
   * `DEADLOCK_DETECTED` when it would wait for an ancestor that waits (through open children) for it.
   */
  allocateOutcome(req: LedgerRequest): 'ok' | 'QUOTA_EXCEEDED' | 'DEADLOCK_DETECTED' {
    const fit = this.fits(req);
    if (fit.ok) return 'ok';
    if (fit.never) return 'QUOTA_EXCEEDED';
    const waitsForMe = (holder: string) => {
      // The holder waits for its open children, down to this job.
      const chain = [req.jobId, ...req.ancestors];
      const at = chain.indexOf(holder);
      return at > 0 && chain.slice(0, at).every((id) => !isFinal(this.job(id).status));
    };
    return fit.holders.some(waitsForMe) ? 'DEADLOCK_DETECTED' : 'QUOTA_EXCEEDED';
  }

  /** Adds to a job's allocation; records which job provides each lock it asked for. */
  allocate(req: LedgerRequest): void {
    const before = this.allocs.get(req.jobId);
    const next: MAlloc = before
      ? { ...before, locks: [...before.locks], pools: { ...before.pools } }
      : { jobId: req.jobId, depth: req.depth, running: false, workerSlots: 0, locks: [], pools: {} };
    next.running ||= req.running;
    next.workerSlots += req.workerSlots;
    const mine = new Set([req.jobId, ...req.ancestors]);
    const job = this.jobs.get(req.jobId);
    for (const { name, count } of this.normalize(req.resources)) {
      if (kindOf(name) === 'pool') {
        next.pools[name] = (next.pools[name] ?? 0) + count;
        continue;
      }
      const holder = this.holderOf(name);
      const reentrant = holder !== undefined && mine.has(holder.jobId) && holder.jobId !== req.jobId;
      if (reentrant) job?.provides.set(name, holder.jobId);
      else {
        if (!next.locks.includes(name)) next.locks.push(name);
        job?.provides.set(name, req.jobId);
      }
    }
    this.allocs.set(req.jobId, next);
  }

  releasePart(jobId: string, resources: readonly ResourceRequest[]): void {
    const a = this.allocs.get(jobId);
    if (!a) return;
    for (const { name, count } of this.normalize(resources)) {
      if (kindOf(name) === 'pool') {
        const left = (a.pools[name] ?? 0) - count;
        if (left > 0) a.pools[name] = left;
        else delete a.pools[name];
      } else {
        a.locks = a.locks.filter((l) => l !== name);
        // A lock let go on purpose: whoever relied on it gave it up knowingly.
        for (const j of this.jobs.values()) if (j.provides.get(name) === jobId) j.provides.delete(name);
      }
    }
    if (!a.running && a.workerSlots === 0 && a.locks.length === 0 && Object.keys(a.pools).length === 0)
      this.allocs.delete(jobId);
  }

  releaseAll(jobId: string): void {
    this.allocs.delete(jobId);
  }

  /** The first queued job, in claim order, the worker can run and whose resources fit now. */
  claimFor(workerId: string): string | null {
    const w = this.worker(workerId);
    const queued = [...this.jobs.values()]
      .filter((j) => j.status === 'QUEUED')
      .sort((a, b) => RANK[a.spec.priority] - RANK[b.spec.priority] || a.arrival - b.arrival);
    for (const j of queued) {
      if (!j.spec.capabilities.every((c) => w.capabilities.includes(c))) continue;
      if (this.fits(this.claimRequest(j)).ok) return j.id;
    }
    return null;
  }

  /** The queue in claim order. */
  queueOrder(): string[] {
    return [...this.jobs.values()]
      .filter((j) => j.status === 'QUEUED')
      .sort((a, b) => RANK[a.spec.priority] - RANK[b.spec.priority] || a.arrival - b.arrival)
      .map((j) => j.id);
  }

  claimRequest(j: MJob): LedgerRequest {
    return {
      jobId: j.id,
      depth: j.depth,
      ancestors: j.ancestors,
      running: true,
      workerSlots: j.spec.workerCount,
      resources: j.spec.resources,
    };
  }

  /** The job's descendants (children first). */
  descendants(id: string): string[] {
    const out: string[] = [];
    const stack = [...this.job(id).children];
    while (stack.length > 0) {
      const c = stack.pop()!;
      out.push(c);
      stack.push(...this.job(c).children);
    }
    return out;
  }

  /**
   * Whether failing this job would send CHILD_FAILED up to a non-final ancestor that is not RUNNING (which the
   * runtime refuses: the known bug `child-failed-refused`).
   */
  failCascadeRefused(id: string): boolean {
    let j = this.job(id);
    while (j.spec.failParentOnFailure && j.parent !== null) {
      const p = this.job(j.parent);
      if (isFinal(p.status)) return false;
      if (p.status !== 'RUNNING') return true;
      j = p;
    }
    return false;
  }

  // ── the journal ───────────────────────────────────────────────────────────

  /** Applies one journal record, checking it against what the lifecycles allow. */
  apply(r: JournalRecord): void {
    if (r.seq !== this.lastSeq + 1) this.flag('journal-gap', `journal seq ${r.seq} after ${this.lastSeq}`);
    this.lastSeq = r.seq;
    if (r.kind === 'job') this.applyJob(r);
    else if (r.kind === 'worker') this.applyWorker(r);
  }

  private applyJob(r: JournalRecord): void {
    const j = this.jobs.get(r.id);
    if (!j) return this.flag('journal-unknown', `record for a job nobody submitted: ${describe(r)}`);
    if (r.from !== j.status)
      this.flag('journal-continuity', `${describe(r)} but the model holds ${j.id} in ${j.status}`);
    if (isFinal(r.from)) this.flag('final-left', `a job left a final state: ${describe(r)}`);
    const edge = `${r.from}>${r.to}`;
    const selfLoop = r.from === r.to && (r.event === 'CHILD_ADDED' || r.event === 'DEPENDENT_ADDED');
    if (!selfLoop && !(JOB_EDGES[edge] ?? []).includes(r.event))
      this.flag('illegal-edge', `not a lifecycle edge: ${describe(r)}`);
    j.status = r.to as JobStatus;
    if (r.from === r.to && r.event !== 'COMPLETE') return;

    if (r.event === 'CLAIM') return this.applyClaim(r, j);
    if (r.from === 'RUNNING') {
      if (r.event === 'LEASE_EXPIRED') {
        if (r.to === 'QUEUED' && j.retryCount >= j.spec.maxRetries)
          this.flag('retries', `${j.id} re-queued after its lease lapsed with no retry left`);
        if (r.to === 'FAILED' && j.retryCount < j.spec.maxRetries)
          this.flag('retries', `${j.id} failed on a lapsed lease with retries left`);
        if (r.to === 'QUEUED') j.retryCount++;
      }
      if (r.event === 'REQUEUE') j.requeues++;
      if (r.event === 'TIMEOUT') {
        if (j.timeoutDue === null || r.at < j.timeoutDue)
          this.flag('timeout', `${j.id} timed out at ${r.at}, its attempt is due at ${j.timeoutDue}`);
        if ((r.to === 'RETRY_WAIT') !== j.retryCount < j.spec.maxRetries)
          this.flag(
            'retries',
            `${j.id} timed out into ${r.to} after ${j.retryCount} of ${j.spec.maxRetries} retries`,
          );
      }
      if (r.event === 'LEASE_EXPIRED' && (j.leaseDue === null || r.at < j.leaseDue))
        this.flag('lease', `${j.id}'s lease lapsed at ${r.at}, it was due at ${j.leaseDue}`);
      if (r.to === 'RETRY_WAIT') {
        j.retryCount++;
        j.retryWaitSince = r.at;
      }
      if (j.workerId !== null) {
        const w = this.workers.get(j.workerId);
        if (w && REVOKING.has(r.event) && w.token === j.token) w.revoked = j.token;
      }
      if (r.to === 'RUNNING') {
        // The worker's own part is done; children still open. It keeps its depth slot and locks.
        j.ownPartDone = true;
        const a = this.allocs.get(j.id);
        if (a) a.workerSlots = 0;
      } else {
        this.releaseAll(j.id);
        j.provides.clear();
      }
      j.workerId = null;
      j.token = null;
      j.leaseDue = null;
      j.timeoutDue = null;
    }
    if (r.to === 'QUEUED') j.arrival = ++this.arrivals;
    else j.arrival = -1;
    if (r.from === 'RETRY_WAIT') j.retryWaitSince = null;
    if (isFinal(r.to)) {
      j.finalRecords++;
      if (j.finalRecords > 1) this.flag('final-twice', `${j.id} reached a final state twice (${r.to})`);
      this.releaseAll(j.id);
      if (r.to === 'COMPLETED') {
        const open = j.children.filter((c) => !isFinal(this.job(c).status));
        if (open.length > 0)
          this.flag('parent-early', `${j.id} COMPLETED while children ${open.join(', ')} are not final`);
      }
    }
  }

  private applyClaim(r: JournalRecord, j: MJob): void {
    const ctx = this.claimContext;
    if (!ctx) return this.flag('claim-unexpected', `a claim no command asked for: ${describe(r)}`);
    // Undo the status change for the oracle: the claim chose among the jobs queued just before it.
    j.status = 'QUEUED';
    const expected = this.claimFor(ctx.workerId);
    j.status = 'RUNNING';
    if (expected !== j.id)
      this.flag(
        'claim-choice',
        `worker ${ctx.workerId} was handed ${j.id} (${j.spec.priority}); the model expected ${expected ?? 'nothing'}` +
          ` from the queue ${this.describeQueue()}`,
      );
    if (ctx.jobId !== undefined && ctx.jobId !== j.id)
      this.flag('claim-answer', `the claim answered ${ctx.jobId} but the journal claims ${j.id}`);
    const token = ctx.token ?? '';
    const fence = ctx.fence ?? 0;
    if (!(fence > this.lastToken))
      this.flag('fence', `fence ${fence} is not greater than the last one handed out (${this.lastToken})`);
    this.lastToken = Math.max(this.lastToken, fence);
    this.allocate(this.claimRequest(j));
    j.arrival = -1;
    j.workerId = ctx.workerId;
    j.token = token;
    j.leaseDue = r.at + LEASE_MS;
    j.timeoutDue = j.spec.timeoutSeconds !== undefined ? r.at + j.spec.timeoutSeconds * 1000 : null;
    j.claims++;
    if (j.claims - j.requeues > j.spec.maxRetries + 1)
      this.flag('retries', `${j.id} ran ${j.claims} attempts with maxRetries ${j.spec.maxRetries}`);
    this.issued.push({ token, jobId: j.id, workerId: ctx.workerId });
    this.claimedNow.push(j.id);
  }

  /**
   * A replayed claim handed the lease `from` a new secret `to`: if that lease is still current, `to` is now its
   * token and `from` is stale (it stays in `issued` as a stale token).
   */
  rekey(from: string, to: string): void {
    const j = [...this.jobs.values()].find((x) => x.status === 'RUNNING' && x.token === from);
    if (!j) return;
    j.token = to;
    const w = j.workerId === null ? undefined : this.workers.get(j.workerId);
    if (w?.token === from) w.token = to;
    this.issued.push({ token: to, jobId: j.id, workerId: j.workerId! });
  }

  private describeQueue(): string {
    return this.queueOrder()
      .map((id) => {
        const j = this.job(id);
        const res = j.spec.resources.map((x) => x.name + (x.count ? `×${x.count}` : '')).join('+');
        return `${id.slice(-4)}:${j.spec.priority}/d${j.depth}/w${j.spec.workerCount}${res ? '/' + res : ''}${
          j.spec.capabilities.length ? '/' + j.spec.capabilities.join('+') : ''
        }`;
      })
      .join(' ');
  }

  private applyWorker(r: JournalRecord): void {
    const w = this.workers.get(r.id);
    if (!w) return this.flag('journal-unknown', `record for a worker nobody registered: ${describe(r)}`);
    if (r.from !== w.status)
      this.flag('journal-continuity', `${describe(r)} but the model holds ${w.id} in ${w.status}`);
    if (!(WORKER_EDGES[`${r.from}>${r.to}`] ?? []).includes(r.event))
      this.flag('illegal-edge', `not a worker lifecycle edge: ${describe(r)}`);
    w.status = r.to as WorkerStatus;
    if (r.event === 'CLAIMED') {
      const j = [...this.jobs.values()].find((x) => x.workerId === w.id && x.status === 'RUNNING');
      w.jobId = j?.id ?? null;
      w.token = j?.token ?? null;
    } else if (r.event === 'JOB_ENDED') {
      w.jobId = null;
      w.token = null;
    } else if (r.event === 'RESUME') {
      w.pendingResume = true;
    } else if (r.event === 'TERMINATE') {
      // TERMINATE revokes the lease: the worker holds nothing any more.
      w.jobId = null;
      w.token = null;
    }
  }
}

export function describe(r: JournalRecord): string {
  return `#${r.seq} ${r.kind} ${r.id} ${r.event} ${r.from}→${r.to}`;
}

/** JSON with sorted keys and no undefined fields: what "the same answer" means. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** Retry backoff bound (DESIGN: base 1 s doubling; equal jitter keeps it ≤ the step). */
export const retryBoundMs = (retry: number): number => Math.min(300_000, 1000 * 2 ** Math.max(0, retry - 1));

/** mulberry32, for the runtime's retry jitter (so a seed replays exactly). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export { BLOCKING };
