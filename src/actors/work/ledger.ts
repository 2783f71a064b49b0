import type { ResourceRequest } from '../../contracts/job.ts';
import { MAX_DEPTH, type Allocation, type ResourceConfig, type Usage } from '../../contracts/resources.ts';
import { normalizeRequests, pathsConflict, resourceKind } from '../../domain/resources.ts';
import type { Store, Write } from '../../store/store.ts';

/** What a job asks the ledger for. */
export interface AllocationRequest {
  jobId: string;
  depth: number;
  /** Parent first: locks an ancestor holds are re-entrant for the job. */
  ancestors: readonly string[];
  /** Take a running-job slot at its depth (a claim does; an allocate on a running job does not). */
  running: boolean;
  workerSlots: number;
  resources: readonly ResourceRequest[];
}

/** Why a request does not fit now; `holders` are the jobs it would wait for. */
export interface Busy {
  resource: string;
  reason: 'quota' | 'pool' | 'lock';
  holders: string[];
  /** The request can never fit (more than a pool's size or a quota). */
  never: boolean;
  detail: Record<string, unknown>;
}

export type CheckResult = { ok: true } | { ok: false; busy: Busy[]; never: boolean };

/**
 * One workspace's resource ledger: running jobs and worker slots per depth and in total, exclusive and path
 * locks, counted pools. All in memory (decisions read memory); allocations are persisted per job in `ledger`.
 */
export class Ledger {
  private readonly ws: string;
  private readonly config: ResourceConfig;
  readonly allocations = new Map<string, Allocation>();
  private readonly runningByDepth = new Array<number>(MAX_DEPTH + 1).fill(0);
  private readonly slotsByDepth = new Array<number>(MAX_DEPTH + 1).fill(0);
  private runningTotal = 0;
  private slotsTotal = 0;
  /** lock (or `path:` lock) → holder job. */
  private readonly locks = new Map<string, string>();
  private readonly poolUsed = new Map<string, number>();

  constructor(ws: string, config: ResourceConfig) {
    this.ws = ws;
    this.config = config;
  }

  static load(store: Store, ws: string, config: ResourceConfig): Ledger {
    const ledger = new Ledger(ws, config);
    for (const { value } of store.range('ledger', { start: [ws, 'alloc'], end: [ws, 'alloc', '\uffff'] })) {
      ledger.count(value as Allocation, +1);
    }
    return ledger;
  }

  /** Whether the request fits now; never changes anything. */
  check(req: AllocationRequest): CheckResult {
    const busy: Busy[] = [];
    const d = req.depth;
    const depthQuota = this.config.depth[d]!;
    const ws = this.config.workspace;
    const held = this.allocations.get(req.jobId);
    if (req.running && !held?.running) {
      if (this.runningByDepth[d]! + 1 > depthQuota.maxRunningJobs)
        busy.push(
          quotaBusy(
            `depth:${d}:runningJobs`,
            this.runningByDepth[d]!,
            depthQuota.maxRunningJobs,
            depthQuota.maxRunningJobs < 1,
          ),
        );
      if (this.runningTotal + 1 > ws.maxRunningJobs)
        busy.push(
          quotaBusy('workspace:runningJobs', this.runningTotal, ws.maxRunningJobs, ws.maxRunningJobs < 1),
        );
    }
    if (req.workerSlots > 0) {
      if (this.slotsByDepth[d]! + req.workerSlots > depthQuota.maxWorkerSlots)
        busy.push(
          quotaBusy(
            `depth:${d}:workerSlots`,
            this.slotsByDepth[d]!,
            depthQuota.maxWorkerSlots,
            req.workerSlots > depthQuota.maxWorkerSlots,
          ),
        );
      if (this.slotsTotal + req.workerSlots > ws.maxWorkerSlots)
        busy.push(
          quotaBusy(
            'workspace:workerSlots',
            this.slotsTotal,
            ws.maxWorkerSlots,
            req.workerSlots > ws.maxWorkerSlots,
          ),
        );
    }
    const mine = new Set([req.jobId, ...req.ancestors]);
    for (const { name, count } of normalizeRequests(req.resources, this.config.pools)) {
      const kind = resourceKind(name, this.config.pools);
      if (kind === 'pool') {
        const size = this.config.pools[name]!;
        const used = this.poolUsed.get(name) ?? 0;
        if (used + count > size) {
          busy.push({
            resource: name,
            reason: 'pool',
            holders: this.poolHolders(name, new Set([req.jobId])),
            never: count > size,
            detail: { size, used, requested: count },
          });
        }
      } else if (kind === 'lock') {
        const holder = this.locks.get(name);
        if (holder !== undefined && !mine.has(holder))
          busy.push({ resource: name, reason: 'lock', holders: [holder], never: false, detail: { holder } });
      } else {
        const holders = new Set<string>();
        for (const [lock, holder] of this.locks) {
          if (lock.startsWith('path:') && !mine.has(holder) && pathsConflict(lock, name)) holders.add(holder);
        }
        if (holders.size > 0)
          busy.push({
            resource: name,
            reason: 'lock',
            holders: [...holders],
            never: false,
            detail: { holders: [...holders] },
          });
      }
    }
    if (busy.length === 0) return { ok: true };
    return { ok: false, busy, never: busy.some((b) => b.never) };
  }

  /** Adds to a job's allocation (call `check` first). Returns the write and an undo. */
  allocate(req: AllocationRequest): { write: Write; undo: () => void } {
    const before = this.allocations.get(req.jobId);
    const next: Allocation = before
      ? { ...before, locks: [...before.locks], pools: { ...before.pools } }
      : { jobId: req.jobId, depth: req.depth, running: false, workerSlots: 0, locks: [], pools: {} };
    next.running ||= req.running;
    next.workerSlots += req.workerSlots;
    const mine = new Set([req.jobId, ...req.ancestors]);
    for (const { name, count } of normalizeRequests(req.resources, this.config.pools)) {
      const kind = resourceKind(name, this.config.pools);
      if (kind === 'pool') next.pools[name] = (next.pools[name] ?? 0) + count;
      else if (!next.locks.includes(name) && !(this.locks.has(name) && mine.has(this.locks.get(name)!)))
        next.locks.push(name);
    }
    return this.replace(req.jobId, before, next);
  }

  /** Frees part of a job's allocation (named resources only). */
  releasePart(
    jobId: string,
    resources: readonly ResourceRequest[],
  ): { write: Write; undo: () => void } | undefined {
    const before = this.allocations.get(jobId);
    if (!before) return undefined;
    const next: Allocation = { ...before, locks: [...before.locks], pools: { ...before.pools } };
    for (const { name, count } of normalizeRequests(resources, this.config.pools)) {
      if (resourceKind(name, this.config.pools) === 'pool') {
        const left = (next.pools[name] ?? 0) - count;
        if (left > 0) next.pools[name] = left;
        else delete next.pools[name];
      } else next.locks = next.locks.filter((l) => l !== name);
    }
    return this.replace(jobId, before, next);
  }

  /** Frees a parent's worker slots when its own part is done (it keeps its depth slot and locks). */
  releaseWorkerSlots(jobId: string): { write: Write; undo: () => void } | undefined {
    const before = this.allocations.get(jobId);
    if (!before || before.workerSlots === 0) return undefined;
    return this.replace(jobId, before, { ...before, workerSlots: 0 });
  }

  /** Frees everything a job holds. */
  release(jobId: string): { write: Write; undo: () => void } | undefined {
    const before = this.allocations.get(jobId);
    if (!before) return undefined;
    return this.replace(jobId, before, null);
  }

  /** Running jobs and worker slots per depth and in total. */
  usage(): {
    byDepth: Usage[];
    workspace: Usage;
    pools: Record<string, { size: number; used: number }>;
    locks: Record<string, string>;
  } {
    return {
      byDepth: this.runningByDepth.map((runningJobs, d) => ({
        runningJobs,
        workerSlots: this.slotsByDepth[d]!,
      })),
      workspace: { runningJobs: this.runningTotal, workerSlots: this.slotsTotal },
      pools: Object.fromEntries(
        Object.entries(this.config.pools).map(([name, size]) => [
          name,
          { size, used: this.poolUsed.get(name) ?? 0 },
        ]),
      ),
      locks: Object.fromEntries(this.locks),
    };
  }

  /** The jobs holding a lock or pool units that `busy` names. */
  holdersOf(resource: string): string[] {
    const holder = this.locks.get(resource);
    if (holder) return [holder];
    return this.poolHolders(resource, new Set());
  }

  private poolHolders(name: string, except: ReadonlySet<string>): string[] {
    const out: string[] = [];
    for (const a of this.allocations.values())
      if ((a.pools[name] ?? 0) > 0 && !except.has(a.jobId)) out.push(a.jobId);
    return out;
  }

  private replace(
    jobId: string,
    before: Allocation | undefined,
    next: Allocation | null,
  ): { write: Write; undo: () => void } {
    if (before) this.count(before, -1);
    if (next) this.count(next, +1);
    const empty =
      next === null ||
      (!next.running &&
        next.workerSlots === 0 &&
        next.locks.length === 0 &&
        Object.keys(next.pools).length === 0);
    const key = [this.ws, 'alloc', jobId];
    return {
      write: empty ? { db: 'ledger', key } : { db: 'ledger', key, value: next },
      undo: () => {
        if (next) this.count(next, -1);
        if (before) this.count(before, +1);
      },
    };
  }

  private count(a: Allocation, sign: 1 | -1): void {
    const d = a.depth;
    if (a.running) {
      this.runningByDepth[d]! += sign;
      this.runningTotal += sign;
    }
    this.slotsByDepth[d]! += sign * a.workerSlots;
    this.slotsTotal += sign * a.workerSlots;
    for (const lock of a.locks) {
      if (sign > 0) this.locks.set(lock, a.jobId);
      else if (this.locks.get(lock) === a.jobId) this.locks.delete(lock);
    }
    for (const [pool, n] of Object.entries(a.pools))
      this.poolUsed.set(pool, (this.poolUsed.get(pool) ?? 0) + sign * n);
    if (sign > 0) this.allocations.set(a.jobId, a);
    else if (this.allocations.get(a.jobId) === a) this.allocations.delete(a.jobId);
  }
}

function quotaBusy(resource: string, used: number, max: number, never: boolean): Busy {
  return { resource, reason: 'quota', holders: [], never, detail: { used, max } };
}
