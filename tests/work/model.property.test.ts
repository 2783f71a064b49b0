/**
 * Work distribution against a reference model (CONVENTIONS "Properties and models"): fast-check `fc.commands`
 * runs random sequences of up to 100 commands — submit (parents, dependencies, priorities, locks, path locks, a
 * pool), claim, heartbeat, complete (claimNext), fail, cancel, pause, resume, terminate, register, allocate,
 * release, lease lapses and clock ticks on a simulated clock, crash-and-restart, passivation, and replays of
 * earlier keyed commands — on a fresh LMDB data dir per run (durability 'commit'), with small quotas.
 *
 * After every command the real state is read back (jobs.list, workers.list, queue.stats, resources.usage, the
 * ledger in LMDB and in memory, the journal) and checked: quotas, pools and exclusive locks never exceeded (a lock
 * held by one job tree at a time, and still held for every running job that asked for it), depth ≤ 5, every job
 * final at most once and never leaving it, no parent COMPLETED before its children are final, no allocation
 * outliving its running job, leases and backoffs firing when due, claims handed out in model order, fencing tokens
 * strictly increasing, replays answering the original answer and changing nothing. See `model.ts`.
 *
 * - `MODEL_RUNS` (default 1000) runs; `MODEL_SEED` fixes the seed (printed at start).
 * - `MODEL_IGNORE=tag,tag` sets aside violations with those tags (to explore past a known bug).
 * - A failing case is appended to `model.regressions.json` (`{ seed, path, replayPath }`), replayed first.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOverseer, type Overseer } from '../../src/index.ts';
import { simulatedClock, tempDataDir, type TempDataDir, type TestClock } from '../../src/testing.ts';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import type { Job, JobSubmitInput, Priority, ResourceRequest } from '../../src/contracts/job.ts';
import type { Allocation } from '../../src/contracts/resources.ts';
import type { ClaimAnswer } from '../../src/contracts/answers.ts';
import { openTestOverseer, rejection } from '../support/open.ts';
import {
  BLOCKING,
  canonical,
  isFinal,
  kindOf,
  LEASE_MS,
  LEASE_SECONDS,
  MAX_DEPTH,
  Model,
  POOL,
  POOL_SIZE,
  RESOURCES,
  retryBoundMs,
  seededRandom,
  WS,
  type JobSpec,
  type MAlloc,
} from './model.ts';

// Measured: ~60 ms a run (about 47 commands on average, ≤ 100, each checked) on 2 cores shared with other
// work, so the default 1000 runs take ~50–75 s; a failure adds its shrinking (seconds to a minute).
const NUM_RUNS = Number(process.env.MODEL_RUNS ?? 1000);
const MAX_COMMANDS = 100;
const SEED = process.env.MODEL_SEED
  ? Number(process.env.MODEL_SEED)
  : (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
const IGNORE = new Set((process.env.MODEL_IGNORE ?? '').split(',').filter(Boolean));
const REGRESSIONS = new URL('./model.regressions.json', import.meta.url);

interface Regression {
  seed: number;
  path: string;
  /** fc.commands' hint, needed to replay a shrunk case exactly. */
  replayPath?: string;
  /** The first violation's tag, e.g. `lock-coverage`. */
  tag?: string;
}
const regressions = JSON.parse(readFileSync(REGRESSIONS, 'utf8')) as Regression[];

/** A fresh temp data dir, in memory (/dev/shm) where there is one: LMDB's syncs then cost nothing. */
function dataDir(): TempDataDir {
  const shm = process.env.MODEL_TMPDIR ?? '/dev/shm';
  if (!existsSync(shm)) return tempDataDir('overseer-model-');
  const path = mkdtempSync(join(shm, 'overseer-model-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

// ── the real system ────────────────────────────────────────────────────────

class Real {
  ov!: Overseer;
  ws!: WorkspaceClient;
  readonly clock: TestClock = simulatedClock();
  readonly dir: TempDataDir = dataDir();
  /** Idempotency keys minted so far (unique per run). */
  keys = 0;
  /** Earlier keyed commands and their answers, for replays. */
  readonly keyed: { command: string; input: unknown; key: string; answer: unknown; noop?: boolean }[] = [];
  private readonly jitter: () => number;

  constructor(jitterSeed: number) {
    this.jitter = seededRandom(jitterSeed);
  }

  async open(): Promise<void> {
    this.ov = await createOverseer({
      dataDir: this.dir.path,
      clock: this.clock,
      durability: 'commit',
      logLevel: process.env.MODEL_LOG === '1' ? 'error' : 'silent',
      heartbeatTimeoutSeconds: 86_400,
      resources: RESOURCES,
    });
    // Retry jitter from the run's seed, so a failing seed replays the same timer order.
    this.ov.runtime.env.random = this.jitter;
    this.ws = this.ov.workspace(WS);
  }

  async reopen(): Promise<void> {
    await this.ov.close();
    await this.open();
  }

  /** Lets fired timers commit (a timer merges synchronously, its batch commits on setImmediate). */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await this.ov.runtime.host.pipeline.idle();
  }

  async close(): Promise<void> {
    await this.ov.close();
    this.dir.remove();
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string; details: unknown };
type Prediction = { ok: true } | { ok: false; code: string };

async function attempt<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    const e = err as { code?: unknown; message: string; details?: unknown };
    if (typeof e.code !== 'string') throw err;
    return { ok: false, code: e.code, message: e.message, details: e.details };
  }
}

/** What the runs exercised (printed at the end, and checked: a fault that never happened proves nothing). */
const coverage = new Map<string, number>();
const cover = (key: string) => coverage.set(key, (coverage.get(key) ?? 0) + 1);

function checkOutcome(m: Model, what: string, predicted: Prediction, outcome: Outcome<unknown>): void {
  cover(`${what.split(' ')[0]} ${outcome.ok ? 'ok' : outcome.code}`);
  if (predicted.ok && !outcome.ok) {
    const event = (outcome.details as { event?: unknown } | undefined)?.event;
    const tag = event === 'CHILD_FAILED' ? 'child-failed-refused' : 'unexpected-refusal';
    m.flag(tag, `${what}: expected success, got ${outcome.code}: ${outcome.message}`);
  } else if (!predicted.ok && outcome.ok) {
    m.flag('unexpected-success', `${what}: expected ${predicted.code}, got ${canonical(outcome.value)}`);
  } else if (!predicted.ok && !outcome.ok && predicted.code !== outcome.code) {
    m.flag('wrong-code', `${what}: expected ${predicted.code}, got ${outcome.code}: ${outcome.message}`);
  }
}

// ── reading the real state ─────────────────────────────────────────────────

/** Applies the journal records written since the last sync; answers how many. */
async function sync(m: Model, r: Real): Promise<number> {
  let n = 0;
  for (;;) {
    const page = await r.ws.events.list({ afterSeq: m.lastSeq, limit: 500 });
    for (const record of page.events) {
      m.apply(record);
      if (record.kind === 'job' && record.from !== record.to) cover(`job ${record.event} → ${record.to}`);
    }
    n += page.events.length;
    if (page.nextCursor === null || page.events.length === 0) return n;
  }
}

const allocKey = (a: MAlloc | Allocation) => canonical({ ...a, locks: [...a.locks].sort(), pools: a.pools });

/** Every invariant, on the state read back from the runtime. */
async function checkState(m: Model, r: Real): Promise<void> {
  const now = r.clock.now();
  const jobs = new Map<string, Job>();
  for (let cursor: string | undefined; ;) {
    const page = await r.ws.jobs.list({ limit: 500, ...(cursor ? { cursor } : {}) });
    for (const j of page.jobs) jobs.set(j.id, j);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  const workers = (await r.ws.workers.list({ limit: 500 })).workers;
  const usage = await r.ws.resources.usage();
  const stats = await r.ws.queue.stats();
  const stored = new Map<string, Allocation>();
  for (const { value } of r.ov.runtime.host.store.range('ledger', {
    start: [WS, 'alloc'],
    end: [WS, 'alloc', '\uffff'],
  })) {
    const a = value as Allocation;
    stored.set(a.jobId, a);
  }
  const work = r.ov.runtime.env.work.get(WS);

  // The journal and the snapshots agree; the model's view of each job matches.
  if (jobs.size !== m.jobs.size) m.flag('state', `jobs.list has ${jobs.size} jobs, the model ${m.jobs.size}`);
  for (const mj of m.jobs.values()) {
    const j = jobs.get(mj.id);
    if (!j) {
      m.flag('state', `job ${mj.id} is missing from jobs.list`);
      continue;
    }
    if (j.status !== mj.status) m.flag('state', `job ${mj.id} is ${j.status}, its journal says ${mj.status}`);
    if (j.depth !== mj.depth || j.depth > MAX_DEPTH) m.flag('depth', `job ${mj.id} has depth ${j.depth}`);
    if (j.retryCount !== mj.retryCount)
      m.flag('retries', `job ${mj.id} has retryCount ${j.retryCount}, the model counts ${mj.retryCount}`);
    if (j.status === 'RUNNING' && !mj.ownPartDone) {
      if (j.workerId !== mj.workerId)
        m.flag('state', `job ${mj.id} is held by ${j.workerId}, the model says ${mj.workerId}`);
      if (j.leaseExpiresAt !== mj.leaseDue)
        m.flag('lease', `job ${mj.id} lease expires at ${j.leaseExpiresAt}, the model says ${mj.leaseDue}`);
      const w = mj.workerId !== null ? m.workers.get(mj.workerId) : undefined;
      if (w?.status !== 'PAUSED' && j.leaseExpiresAt !== null && j.leaseExpiresAt <= now)
        m.flag(
          lapseTag(m, mj.id),
          `job ${mj.id} is still RUNNING ${now - j.leaseExpiresAt} ms after its lease lapsed (worker ${w?.status})`,
        );
      if (mj.timeoutDue !== null && mj.timeoutDue <= now)
        m.flag(
          'timeout-not-fired',
          `job ${mj.id} is still RUNNING ${now - mj.timeoutDue} ms after its timeout`,
        );
    } else if (j.workerId !== null) m.flag('state', `job ${mj.id} is ${j.status} yet held by ${j.workerId}`);
    if (
      j.status === 'RETRY_WAIT' &&
      mj.retryWaitSince !== null &&
      now >= mj.retryWaitSince + retryBoundMs(mj.retryCount)
    )
      m.flag(
        'retry-not-fired',
        `job ${mj.id} is still in RETRY_WAIT ${now - mj.retryWaitSince} ms after its backoff`,
      );
    // Parents and dependencies.
    const children = mj.children.map((c) => m.job(c));
    if (j.status === 'COMPLETED' && children.some((c) => !isFinal(c.status)))
      m.flag('parent-early', `job ${mj.id} is COMPLETED with open children`);
    if (j.status === 'RUNNING' && mj.ownPartDone && children.every((c) => isFinal(c.status)))
      m.flag(
        'parent-stuck',
        `job ${mj.id} finished its own part and all its children are final, yet RUNNING`,
      );
    const deps = mj.spec.dependsOn.map((d) => m.job(d).status ?? 'none');
    if (j.status === 'PENDING' && deps.every((s) => s === 'COMPLETED'))
      m.flag('dependency', `job ${mj.id} is PENDING with every dependency COMPLETED`);
    if ((j.status === 'PENDING' || j.status === 'SUBMITTED') && deps.some((s) => BLOCKING.includes(s)))
      m.flag('dependency', `job ${mj.id} is ${j.status} with a dependency ${deps.join('/')}`);
  }

  // Workers.
  for (const w of workers) {
    const mw = m.workers.get(w.id);
    if (!mw) m.flag('state', `worker ${w.id} unknown to the model`);
    else if (w.status !== mw.status || w.jobId !== mw.jobId)
      m.flag(
        'state',
        `worker ${w.id} is ${w.status} with ${w.jobId}, the model ${mw.status} with ${mw.jobId}`,
      );
    // TERMINATE re-queued (or left) its job: the worker holds nothing any more.
    if (w.status === 'TERMINATED' && w.jobId !== null && jobs.get(w.jobId)?.workerId !== w.id)
      m.flag(
        'terminated-keeps-job',
        `terminated worker ${w.id} still shows job ${w.jobId} (${jobs.get(w.jobId)?.status})`,
      );
  }

  // The ledger: in LMDB, in memory, in the model, and the usage it reports.
  const memory = new Map<string, Allocation>();
  for (const a of work.ledger.allocations.values()) {
    const empty =
      !a.running && a.workerSlots === 0 && a.locks.length === 0 && Object.keys(a.pools).length === 0;
    if (!empty) memory.set(a.jobId, a);
  }
  const same = (x: Map<string, Allocation | MAlloc>, y: Map<string, Allocation | MAlloc>) =>
    canonical([...x.values()].map(allocKey).sort()) === canonical([...y.values()].map(allocKey).sort());
  if (!same(stored, memory))
    m.flag(
      'ledger-memory',
      `ledger in memory ${canonical([...memory.values()])} ≠ in LMDB ${canonical([...stored.values()])}`,
    );
  if (!same(stored, m.allocs))
    m.flag(
      'ledger-model',
      `ledger ${canonical([...stored.values()])} ≠ model ${canonical([...m.allocs.values()])}`,
    );
  const all = [...stored.values()];
  for (let d = 0; d <= MAX_DEPTH; d++) {
    const running = all.filter((a) => a.running && a.depth === d).length;
    const slots = all.filter((a) => a.depth === d).reduce((n, a) => n + a.workerSlots, 0);
    const q = RESOURCES.depth[d]!;
    if (running > q.maxRunningJobs || slots > q.maxWorkerSlots)
      m.flag('quota', `depth ${d}: ${running} running jobs, ${slots} worker slots over ${canonical(q)}`);
    if (usage.byDepth[d]?.runningJobs !== running || usage.byDepth[d]?.workerSlots !== slots)
      m.flag(
        'usage',
        `usage at depth ${d} is ${canonical(usage.byDepth[d])}, the ledger holds ${running}/${slots}`,
      );
  }
  const running = all.filter((a) => a.running).length;
  const slots = all.reduce((n, a) => n + a.workerSlots, 0);
  if (running > RESOURCES.workspace.maxRunningJobs || slots > RESOURCES.workspace.maxWorkerSlots)
    m.flag('quota', `workspace: ${running} running jobs, ${slots} worker slots`);
  if (usage.workspace.runningJobs !== running || usage.workspace.workerSlots !== slots)
    m.flag('usage', `workspace usage ${canonical(usage.workspace)} ≠ ledger ${running}/${slots}`);
  const poolUsed = all.reduce((n, a) => n + (a.pools[POOL] ?? 0), 0);
  if (poolUsed > POOL_SIZE) m.flag('quota', `pool ${POOL}: ${poolUsed} of ${POOL_SIZE} in use`);
  if (usage.pools[POOL]?.used !== poolUsed)
    m.flag('usage', `pool usage ${canonical(usage.pools)} ≠ ${poolUsed}`);
  const locks = Object.fromEntries(all.flatMap((a) => a.locks.map((l) => [l, a.jobId])));
  if (canonical(locks) !== canonical(usage.locks))
    m.flag('usage', `locks reported ${canonical(usage.locks)}, held ${canonical(locks)}`);

  const related = (a: string, b: string) => m.job(a).ancestors.includes(b) || m.job(b).ancestors.includes(a);
  for (const a of all) {
    const j = jobs.get(a.jobId);
    if (!j || isFinal(j.status))
      m.flag('alloc-outlives-job', `an allocation of ${a.jobId}, which is ${j?.status}`);
    else if (j.status !== 'RUNNING')
      m.flag('alloc-outlives-job', `an allocation of ${a.jobId} (${j.status})`);
    // Exclusive and path locks: conflicting holders must be one job tree (an ancestor and its descendant).
    for (const b of all) {
      if (a.jobId >= b.jobId) continue;
      for (const la of a.locks)
        for (const lb of b.locks) {
          const clash =
            kindOf(la) === 'path' && kindOf(lb) === 'path'
              ? la.startsWith(lb) || lb.startsWith(la)
              : la === lb && kindOf(la) === 'lock';
          if (clash && !related(a.jobId, b.jobId))
            m.flag('lock', `${la} held by ${a.jobId} and ${lb} by ${b.jobId}, two job trees`);
        }
    }
  }
  // Every running job still has the locks it asked for (itself, or through the ancestor that lent them).
  for (const mj of m.jobs.values()) {
    if (mj.status !== 'RUNNING') continue;
    for (const [lock, provider] of mj.provides) {
      if (!stored.get(provider)?.locks.includes(lock))
        m.flag(
          'lock-coverage',
          `job ${mj.id} (RUNNING, depth ${mj.depth}) relies on ${lock} held by ${provider}, ` +
            `which no longer holds it (${m.job(provider).status})`,
        );
    }
  }

  // The queue: its order in memory, its depth by priority, the counts by status.
  const order = [...work.queue.scan()].map((e) => e.jobId);
  if (canonical(order) !== canonical(m.queueOrder()))
    m.flag('queue', `queue order ${order.join(',')} ≠ model ${m.queueOrder().join(',')}`);
  const depth: Record<Priority, number> = { high: 0, normal: 0, low: 0 };
  const counts: Record<string, number> = {};
  for (const mj of m.jobs.values()) {
    if (mj.status === 'QUEUED') depth[mj.spec.priority]++;
    if (mj.status) counts[mj.status] = (counts[mj.status] ?? 0) + 1;
  }
  if (canonical(stats.depth) !== canonical(depth))
    m.flag('queue', `queue.stats depth ${canonical(stats.depth)} ≠ ${canonical(depth)}`);
  if (canonical(stats.jobs) !== canonical(counts))
    m.flag('counts', `queue.stats jobs ${canonical(stats.jobs)} ≠ ${canonical(counts)}`);
}

/** A lapse that failed to apply because the job's FAILED would be refused by its parent is the known bug. */
function lapseTag(m: Model, id: string): string {
  const j = m.job(id);
  if (m.stuck.has(id) || (j.retryCount >= j.spec.maxRetries && m.failCascadeRefused(id))) {
    m.stuck.add(id);
    return 'child-failed-refused';
  }
  return 'lease-not-expired';
}

function raise(m: Model, step: string): void {
  const kept = m.violations.filter((v) => !IGNORE.has(v.tag));
  m.violations.length = 0;
  if (kept.length > 0)
    throw new Error(`${step}:\n${kept.map((v) => `  [${v.tag}] ${v.message}`).join('\n')}`);
}

// ── picking targets ────────────────────────────────────────────────────────

type JobPool = 'running' | 'live' | 'any' | 'deepest' | 'allocated';
interface JobPick {
  from: JobPool;
  n: number;
}

function pickJob(m: Model, pick: JobPick): string | undefined {
  let ids = m.jobOrder;
  const status = (id: string) => m.job(id).status;
  if (pick.from === 'running') ids = ids.filter((id) => status(id) === 'RUNNING');
  else if (pick.from === 'live') ids = ids.filter((id) => !isFinal(status(id)));
  else if (pick.from === 'allocated') ids = ids.filter((id) => m.allocs.has(id));
  else if (pick.from === 'deepest') {
    const live = ids.filter((id) => !isFinal(status(id)));
    const max = Math.max(-1, ...live.map((id) => m.job(id).depth));
    ids = live.filter((id) => m.job(id).depth === max);
  }
  if (ids.length === 0) ids = m.jobOrder;
  return ids.length === 0 ? undefined : ids[pick.n % ids.length];
}

const pickWorker = (m: Model, n: number) => m.workerOrder[n % m.workerOrder.length]!;

// ── commands ───────────────────────────────────────────────────────────────

/** Commands executed, by name (printed at the end, to show what the runs covered). */
const executed = new Map<string, number>();
const timing = { exec: 0, check: 0 };
const perName = new Map<string, number>();

abstract class Cmd implements fc.AsyncCommand<Model, Real> {
  check(_m: Readonly<Model>): boolean {
    return true;
  }
  abstract exec(m: Model, r: Real): Promise<void>;
  async run(m: Model, r: Real): Promise<void> {
    const name = this.toString().replace(/\(.*/, '');
    executed.set(name, (executed.get(name) ?? 0) + 1);
    const t0 = performance.now();
    await this.exec(m, r);
    const t1 = performance.now();
    await checkState(m, r);
    timing.exec += t1 - t0;
    perName.set(name, (perName.get(name) ?? 0) + (t1 - t0));
    timing.check += performance.now() - t1;
    raise(m, this.toString());
  }
  abstract toString(): string;
}

interface SpecArb {
  parent: JobPick | null;
  deps: JobPick[];
  priority: Priority;
  capabilities: string[];
  resources: ResourceRequest[];
  workerCount: number;
  maxRetries: number;
  failParentOnFailure: boolean;
  timeoutSeconds: number | null;
}

/** Whether a job with these dependencies would wait (through non-final jobs' dependencies) for an ancestor. */
function waitsOnAncestor(m: Model, dependsOn: readonly string[], ancestors: readonly string[]): boolean {
  const seen = new Set(dependsOn);
  const queue = [...dependsOn];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    if (ancestors.includes(id)) return true;
    const job = m.job(id);
    if (isFinal(job.status)) continue;
    for (const next of job.spec.dependsOn) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return false;
}

class Submit extends Cmd {
  constructor(
    readonly specs: SpecArb[],
    readonly many: boolean,
  ) {
    super();
  }
  async exec(m: Model, r: Real): Promise<void> {
    const specs: JobSpec[] = this.specs.map((s, i) => {
      const parent = s.parent ? pickJob(m, s.parent) : undefined;
      const deps = [...new Set(s.deps.map((d) => pickJob(m, d)).filter((d) => d !== undefined))];
      return {
        title: `job ${m.jobOrder.length + i}`,
        priority: s.priority,
        ...(parent !== undefined ? { parentJobId: parent } : {}),
        dependsOn: deps,
        capabilities: s.capabilities,
        resources: s.resources,
        workerCount: s.workerCount,
        maxRetries: s.maxRetries,
        failParentOnFailure: s.failParentOnFailure,
        ...(s.timeoutSeconds !== null ? { timeoutSeconds: s.timeoutSeconds } : {}),
      };
    });
    // Prediction, from the state before the command.
    let predicted: Prediction = { ok: true };
    for (const s of specs) {
      if (s.parentJobId === undefined) continue;
      const p = m.job(s.parentJobId);
      if (isFinal(p.status)) predicted = { ok: false, code: 'INVALID_STATE_TRANSITION' };
      else if (p.depth + 1 > MAX_DEPTH) predicted = { ok: false, code: 'MAX_DEPTH_EXCEEDED' };
      else if (waitsOnAncestor(m, s.dependsOn, [p.id, ...p.ancestors]))
        predicted = { ok: false, code: 'DEPENDENCY_CYCLE' };
      if (!predicted.ok) break;
    }
    const expected = specs.map((s) => {
      const deps = s.dependsOn.map((d) => m.job(d).status ?? '');
      if (deps.some((d) => BLOCKING.includes(d))) return 'BLOCKED';
      return deps.some((d) => d !== 'COMPLETED') ? 'PENDING' : 'QUEUED';
    });
    const inputs: JobSubmitInput[] = specs.map((s) => ({
      title: s.title,
      priority: s.priority,
      ...(s.parentJobId !== undefined ? { parentJobId: s.parentJobId } : {}),
      dependsOn: s.dependsOn,
      capabilities: s.capabilities,
      resources: s.resources,
      workerCount: s.workerCount,
      execution: {
        maxRetries: s.maxRetries,
        ...(s.timeoutSeconds !== undefined ? { timeoutSeconds: s.timeoutSeconds } : {}),
      },
      leaseSeconds: LEASE_SECONDS,
      failParentOnFailure: s.failParentOnFailure,
    }));
    const key = `submit-${++r.keys}`;
    const single = specs.length === 1 && !this.many;
    const outcome = await attempt<Job | Job[]>(
      single
        ? r.ws.jobs.submit(inputs[0]!, { idempotencyKey: key })
        : r.ws.jobs.submitMany(inputs, { idempotencyKey: key }),
    );
    checkOutcome(m, 'submit', predicted, outcome);
    if (outcome.ok) {
      const answers = single ? [outcome.value as Job] : (outcome.value as Job[]);
      r.keyed.push({
        command: single ? 'submit' : 'submitMany',
        input: single ? inputs[0] : inputs,
        key,
        answer: outcome.value,
      });
      // A job blocked at once can complete an ownPartDone parent, which changes what later specs see.
      let certain = true;
      answers.forEach((job, i) => {
        const mj = m.addJob(job.id, specs[i]!);
        if (job.depth !== mj.depth)
          m.flag('depth', `job ${job.id} answered depth ${job.depth}, expected ${mj.depth}`);
        if (certain && job.status !== expected[i])
          m.flag('submit-status', `job ${job.id} answered ${job.status}, expected ${expected[i]}`);
        if (expected[i] === 'BLOCKED') certain = false;
      });
    }
    await r.settle();
    await sync(m, r);
  }
  toString(): string {
    return `Submit(${canonical(this.specs)}, many=${this.many})`;
  }
}

/** The lease secret a claim (or a completion's next claim) answered, if any. */
function leaseOf(command: string, answer: unknown): string | undefined {
  const a = answer as { lease?: { token: string }; next?: { lease?: { token: string } } } | undefined;
  return command === 'claim' ? a?.lease?.token : command === 'complete' ? a?.next?.lease?.token : undefined;
}

/** Records a replay's fresh secret in the kept answer, so the next replay is compared with it. */
function setLease(answer: unknown, command: string, token: string): void {
  const a = answer as { lease?: { token: string }; next?: { lease?: { token: string } } };
  const lease = command === 'claim' ? a.lease : a.next?.lease;
  if (lease) lease.token = token;
}

class Claim extends Cmd {
  constructor(
    readonly w: number,
    readonly keyed: boolean,
  ) {
    super();
  }
  async exec(m: Model, r: Real): Promise<void> {
    const workerId = pickWorker(m, this.w);
    const w = m.worker(workerId);
    const predicted: Prediction =
      w.status === 'IDLE' ? { ok: true } : { ok: false, code: 'INVALID_STATE_TRANSITION' };
    const expected = w.status === 'IDLE' ? m.claimFor(workerId) : null;
    const key = this.keyed ? `claim-${++r.keys}` : undefined;
    const input = { workerId };
    const outcome = await attempt(r.ws.queue.claim(input, key ? { idempotencyKey: key } : {}));
    checkOutcome(m, `claim by ${workerId} (${w.status})`, predicted, outcome);
    await r.settle();
    const answer = outcome.ok ? outcome.value : undefined;
    m.claimContext = {
      workerId,
      token: answer?.lease?.token,
      fence: answer?.lease?.fence,
      jobId: answer?.job?.id ?? undefined,
    };
    m.claimedNow = [];
    await sync(m, r);
    m.claimContext = null;
    if (answer) {
      if (answer.job === null && m.queueOrder().length > 0) cover('claim blocked (queue not empty)');
      if (answer.job === null && expected !== null)
        m.flag('claim-choice', `claim by ${workerId} answered no job; the model expected ${expected}`);
      if (answer.job !== null) {
        checkClaimAnswer(m, r, answer);
        if (key) r.keyed.push({ command: 'claim', input, key, answer });
      }
      if ((answer.job === null ? 0 : 1) !== m.claimedNow.length)
        m.flag(
          'claim-answer',
          `claim answered ${answer.job?.id ?? 'nothing'}, the journal claims ${m.claimedNow.join(',')}`,
        );
    }
  }
  toString(): string {
    return `Claim(w${this.w}${this.keyed ? ', keyed' : ''})`;
  }
}

function checkClaimAnswer(m: Model, r: Real, answer: ClaimAnswer): void {
  const job = answer.job!;
  const mj = m.job(job.id);
  if (job.status !== 'RUNNING' || answer.lease?.expiresAt !== r.clock.now() + LEASE_MS)
    m.flag('claim-answer', `claim answered ${job.status} expiring ${answer.lease?.expiresAt}`);
  if (answer.workOrder?.retryCount !== mj.retryCount || answer.workOrder.jobId !== job.id)
    m.flag(
      'claim-answer',
      `work order ${canonical(answer.workOrder)} for ${job.id} (retries ${mj.retryCount})`,
    );
}

interface LeasePick {
  current: boolean;
  n: number;
}

function pickLease(m: Model, pick: LeasePick) {
  const live = m.issued.filter((l) => {
    const j = m.job(l.jobId);
    return j.status === 'RUNNING' && j.token === l.token;
  });
  const from = pick.current && live.length > 0 ? live : m.issued;
  return from[pick.n % from.length]!;
}

const leaseIsCurrent = (m: Model, token: string, jobId: string) => {
  const j = m.job(jobId);
  return j.status === 'RUNNING' && j.token === token;
};

class Complete extends Cmd {
  constructor(
    readonly lease: LeasePick,
    readonly claimNext: boolean,
  ) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.issued.length > 0;
  }
  async exec(m: Model, r: Real): Promise<void> {
    const lease = pickLease(m, this.lease);
    const mj = m.job(lease.jobId);
    const current = leaseIsCurrent(m, lease.token, lease.jobId);
    const predicted: Prediction = current ? { ok: true } : { ok: false, code: 'LEASE_LOST' };
    const expectStatus = mj.children.every((c) => isFinal(m.job(c).status)) ? 'COMPLETED' : 'RUNNING';
    const key = `complete-${++r.keys}`;
    const input = {
      jobId: lease.jobId,
      leaseToken: lease.token,
      result: { n: r.keys },
      claimNext: this.claimNext,
    };
    const outcome = await attempt(r.ws.queue.complete(input, { idempotencyKey: key }));
    checkOutcome(m, `complete ${lease.jobId} with ${lease.token}`, predicted, outcome);
    await r.settle();
    const answer = outcome.ok ? outcome.value : undefined;
    m.claimContext = {
      workerId: lease.workerId,
      token: answer?.next?.lease?.token,
      fence: answer?.next?.lease?.fence,
      jobId: answer?.next?.job?.id,
    };
    m.claimedNow = [];
    await sync(m, r);
    m.claimContext = null;
    if (!answer) return;
    r.keyed.push({ command: 'complete', input, key, answer });
    if (answer.job.status !== expectStatus)
      m.flag(
        'complete-status',
        `complete of ${lease.jobId} answered ${answer.job.status}, expected ${expectStatus}`,
      );
    if (this.claimNext !== (answer.next !== undefined))
      m.flag('claim-answer', `claimNext ${this.claimNext} answered ${canonical(answer.next)}`);
    if (answer.next?.job === null) {
      const w = m.worker(lease.workerId);
      const expected = w.status === 'IDLE' ? m.claimFor(w.id) : null;
      if (expected !== null)
        m.flag('claim-choice', `claimNext answered no job; the model expected ${expected}`);
    } else if (answer.next?.job) checkClaimAnswer(m, r, answer.next);
    if ((answer.next?.job ? 1 : 0) !== m.claimedNow.length)
      m.flag(
        'claim-answer',
        `claimNext answered ${answer.next?.job?.id}, the journal claims ${m.claimedNow.join(',')}`,
      );
  }
  toString(): string {
    return `Complete(${canonical(this.lease)}, claimNext=${this.claimNext})`;
  }
}

class Fail extends Cmd {
  constructor(
    readonly lease: LeasePick,
    readonly retryable: boolean,
  ) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.issued.length > 0;
  }
  async exec(m: Model, r: Real): Promise<void> {
    const lease = pickLease(m, this.lease);
    const mj = m.job(lease.jobId);
    const predicted: Prediction = leaseIsCurrent(m, lease.token, lease.jobId)
      ? { ok: true }
      : { ok: false, code: 'LEASE_LOST' };
    const expectStatus = this.retryable && mj.retryCount < mj.spec.maxRetries ? 'RETRY_WAIT' : 'FAILED';
    const input = { jobId: lease.jobId, leaseToken: lease.token, reason: 'boom', retryable: this.retryable };
    const outcome = await attempt(r.ws.queue.fail(input));
    checkOutcome(
      m,
      `fail ${lease.jobId} (parent ${mj.parent ? m.job(mj.parent).status : '-'})`,
      predicted,
      outcome,
    );
    if (outcome.ok && outcome.value.job.status !== expectStatus)
      m.flag(
        'fail-status',
        `fail of ${lease.jobId} answered ${outcome.value.job.status}, expected ${expectStatus}`,
      );
    await r.settle();
    await sync(m, r);
  }
  toString(): string {
    return `Fail(${canonical(this.lease)}, retryable=${this.retryable})`;
  }
}

class Heartbeat extends Cmd {
  constructor(
    readonly w: number,
    readonly token: 'current' | 'stale' | 'none',
    readonly n: number,
    readonly viaQueue: boolean,
  ) {
    super();
  }
  async exec(m: Model, r: Real): Promise<void> {
    const w = m.worker(pickWorker(m, this.w));
    let token: string | undefined;
    if (this.token === 'current') token = w.token ?? undefined;
    else if (this.token === 'stale') {
      const mine = m.issued.filter((l) => l.workerId === w.id);
      const from = mine.length > 0 ? mine : m.issued;
      token = from.length > 0 ? from[this.n % from.length]!.token : '424242';
    }
    const now = r.clock.now();
    let predicted: Prediction = { ok: true };
    let expected: { directive: string; leaseExpiresAt: number | null };
    const job = w.jobId !== null ? m.job(w.jobId) : undefined;
    if (w.status === 'TERMINATED') expected = { directive: 'terminate', leaseExpiresAt: null };
    else if (token !== undefined && token !== w.token) {
      if (token === w.revoked) expected = { directive: 'cancel', leaseExpiresAt: null };
      else {
        predicted = { ok: false, code: 'LEASE_LOST' };
        expected = { directive: '', leaseExpiresAt: null };
      }
    } else {
      const live = token !== undefined && job?.status === 'RUNNING' && job.token === token;
      expected = {
        directive: w.status === 'PAUSED' ? 'pause' : w.pendingResume ? 'resume' : 'continue',
        leaseExpiresAt: live ? (w.status === 'PAUSED' ? job.leaseDue : now + LEASE_MS) : null,
      };
    }
    const input = token !== undefined ? { leaseToken: token } : {};
    const outcome = await attempt(
      this.viaQueue
        ? r.ws.queue.heartbeat({ workerId: w.id, ...input })
        : r.ws.workers.heartbeat(w.id, input),
    );
    checkOutcome(
      m,
      `heartbeat ${w.id} (${w.status}) with ${token} (holds ${w.token}, revoked ${w.revoked})`,
      predicted,
      outcome,
    );
    if (outcome.ok && canonical(outcome.value) !== canonical(expected))
      m.flag(
        'heartbeat',
        `heartbeat of ${w.id} (${w.status}) with ${token} answered ${canonical(outcome.value)}, expected ${canonical(expected)}`,
      );
    if (outcome.ok && expected.directive !== 'cancel' && expected.directive !== 'terminate') {
      w.pendingResume = false;
      if (job && expected.leaseExpiresAt !== null && w.status !== 'PAUSED')
        job.leaseDue = expected.leaseExpiresAt;
    }
    await r.settle();
    await sync(m, r);
  }
  toString(): string {
    return `Heartbeat(w${this.w}, ${this.token}#${this.n}, ${this.viaQueue ? 'queue' : 'workers'})`;
  }
}

class Cancel extends Cmd {
  constructor(readonly job: JobPick) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.jobOrder.length > 0;
  }
  async exec(m: Model, r: Real): Promise<void> {
    const id = pickJob(m, this.job)!;
    const open = [id, ...m.descendants(id)].filter((d) => !isFinal(m.job(d).status));
    const predicted: Prediction = isFinal(m.job(id).status)
      ? { ok: false, code: 'INVALID_STATE_TRANSITION' }
      : { ok: true };
    const outcome = await attempt(r.ws.jobs.cancel(id));
    checkOutcome(m, `cancel ${id}`, predicted, outcome);
    await r.settle();
    await sync(m, r);
    if (outcome.ok)
      for (const d of open)
        // A descendant that depends on a canceled job may be BLOCKED first (and a parent whose own part was done
        // may then complete): final either way.
        if (!isFinal(m.job(d).status)) m.flag('cancel', `cancel of ${id} left ${d} ${m.job(d).status}`);
  }
  toString(): string {
    return `Cancel(${canonical(this.job)})`;
  }
}

class Supervise extends Cmd {
  constructor(
    readonly op: 'pause' | 'resume' | 'terminate',
    readonly w: number,
  ) {
    super();
  }
  async exec(m: Model, r: Real): Promise<void> {
    const w = m.worker(pickWorker(m, this.w));
    const status = w.status;
    const job = w.jobId !== null ? m.job(w.jobId) : undefined;
    let predicted: Prediction;
    let expected: string;
    if (this.op === 'pause') {
      predicted =
        status === 'IDLE' || status === 'RUNNING'
          ? { ok: true }
          : { ok: false, code: 'INVALID_STATE_TRANSITION' };
      expected = 'PAUSED';
    } else if (this.op === 'resume') {
      predicted = status === 'PAUSED' ? { ok: true } : { ok: false, code: 'INVALID_STATE_TRANSITION' };
      expected = w.jobId !== null ? 'RUNNING' : 'IDLE';
    } else {
      predicted = status === 'TERMINATED' ? { ok: false, code: 'INVALID_STATE_TRANSITION' } : { ok: true };
      expected = 'TERMINATED';
    }
    const outcome = await attempt(r.ws.workers[this.op](w.id));
    checkOutcome(m, `${this.op} ${w.id} (${status})`, predicted, outcome);
    if (outcome.ok && outcome.value.status !== expected)
      m.flag(
        'supervise',
        `${this.op} of ${w.id} (${status}) answered ${outcome.value.status}, expected ${expected}`,
      );
    if (outcome.ok && this.op === 'resume' && job?.status === 'RUNNING')
      job.leaseDue = r.clock.now() + LEASE_MS;
    await r.settle();
    await sync(m, r);
  }
  toString(): string {
    return `${this.op}(w${this.w})`;
  }
}

class Register extends Cmd {
  constructor(readonly capabilities: string[]) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.workerOrder.length < 10;
  }
  async exec(m: Model, r: Real): Promise<void> {
    const outcome = await attempt(
      r.ws.workers.register({ name: `w${m.workerOrder.length}`, capabilities: this.capabilities }),
    );
    checkOutcome(m, 'register', { ok: true }, outcome);
    if (outcome.ok) m.addWorker(outcome.value.id, this.capabilities);
    await r.settle();
    await sync(m, r);
  }
  toString(): string {
    return `Register(${this.capabilities.join('+')})`;
  }
}

class Allocate extends Cmd {
  constructor(
    readonly job: JobPick,
    readonly resources: ResourceRequest[],
  ) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.jobOrder.length > 0;
  }
  async exec(m: Model, r: Real): Promise<void> {
    const id = pickJob(m, this.job)!;
    const mj = m.job(id);
    const req = {
      jobId: id,
      depth: mj.depth,
      ancestors: mj.ancestors,
      running: false,
      workerSlots: 0,
      resources: this.resources,
    };
    let predicted: Prediction = { ok: true };
    if (mj.status !== 'RUNNING') predicted = { ok: false, code: 'INVALID_STATE_TRANSITION' };
    else {
      const expected = m.allocateOutcome(req);
      if (expected !== 'ok') predicted = { ok: false, code: expected };
    }
    const outcome = await attempt(r.ws.resources.allocate({ jobId: id, resources: this.resources }));
    checkOutcome(m, `allocate ${canonical(this.resources)} to ${id} (${mj.status})`, predicted, outcome);
    if (outcome.ok) {
      m.allocate(req);
      const mine = m.allocs.get(id);
      if (!mine || allocKey(mine) !== allocKey(outcome.value.allocation))
        m.flag(
          'ledger-model',
          `allocate answered ${canonical(outcome.value.allocation)}, the model holds ${canonical(mine)}`,
        );
    }
    await r.settle();
    await sync(m, r);
  }
  toString(): string {
    return `Allocate(${canonical(this.job)}, ${canonical(this.resources)})`;
  }
}

class Release extends Cmd {
  constructor(
    readonly job: JobPick,
    readonly resources: ResourceRequest[],
  ) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.jobOrder.length > 0;
  }
  async exec(m: Model, r: Real): Promise<void> {
    const id = pickJob(m, this.job)!;
    const input = { jobId: id, resources: this.resources };
    const key = `release-${++r.keys}`;
    // Releasing from a job that holds nothing changes nothing, and so leaves no idempotency record.
    const noop = !m.allocs.has(id);
    const outcome = await attempt(r.ws.resources.release(input, { idempotencyKey: key }));
    checkOutcome(m, `release from ${id}`, { ok: true }, outcome);
    if (outcome.ok) {
      r.keyed.push({ command: 'release', input, key, answer: outcome.value, noop });
      m.releasePart(id, this.resources);
      const mine = m.allocs.get(id);
      const got = outcome.value.allocation;
      if ((mine === undefined) !== (got === null) || (mine && got && allocKey(mine) !== allocKey(got)))
        m.flag('ledger-model', `release answered ${canonical(got)}, the model holds ${canonical(mine)}`);
    }
    await r.settle();
    await sync(m, r);
  }
  toString(): string {
    return `Release(${canonical(this.job)}, ${canonical(this.resources)})`;
  }
}

class Advance extends Cmd {
  constructor(readonly ms: number) {
    super();
  }
  async exec(m: Model, r: Real): Promise<void> {
    const due = r.clock.now() + this.ms;
    const lapsing = [...m.jobs.values()].filter((j) => {
      const w = j.workerId !== null ? m.workers.get(j.workerId) : undefined;
      if (j.status !== 'RUNNING') return false;
      if (j.timeoutDue !== null && j.timeoutDue <= due) return true;
      return j.leaseDue !== null && j.leaseDue <= due && w?.status !== 'PAUSED';
    });
    const tokens = new Map(lapsing.map((j) => [j.id, j.token]));
    r.clock.increment(this.ms);
    await r.settle();
    await sync(m, r);
    for (const [id, token] of tokens) {
      const j = m.job(id);
      if (j.status === 'RUNNING' && j.token === token)
        m.flag(lapseTag(m, id), `job ${id}'s lease ${token} lapsed, yet the job is RUNNING with it`);
    }
  }
  toString(): string {
    return this.ms === LEASE_MS ? 'LeaseLapse()' : `Tick(${this.ms})`;
  }
}

class Restart extends Cmd {
  async exec(m: Model, r: Real): Promise<void> {
    await r.reopen();
    await sync(m, r);
  }
  toString(): string {
    return 'CrashAndRestart()';
  }
}

class Passivate extends Cmd {
  async exec(m: Model, r: Real): Promise<void> {
    r.ov.runtime.host.passivate(Infinity);
    await r.settle();
    await sync(m, r);
  }
  toString(): string {
    return 'Passivate()';
  }
}

class Replay extends Cmd {
  constructor(
    readonly n: number,
    readonly mismatch: boolean,
  ) {
    super();
  }
  async exec(m: Model, r: Real): Promise<void> {
    if (r.keyed.length === 0) return;
    const k = r.keyed[this.n % r.keyed.length]!;
    const options = { idempotencyKey: k.key };
    const mm = this.mismatch && k.command !== 'claim';
    let p: Promise<unknown>;
    let sentRelease: { jobId: string; resources: ResourceRequest[] } | undefined;
    if (k.command === 'submit') {
      const input = k.input as JobSubmitInput;
      p = r.ws.jobs.submit(mm ? { ...input, title: 'other' } : input, options);
    } else if (k.command === 'submitMany') {
      const inputs = k.input as JobSubmitInput[];
      p = r.ws.jobs.submitMany(
        mm ? [{ ...inputs[0]!, title: 'other' }, ...inputs.slice(1)] : inputs,
        options,
      );
    } else if (k.command === 'complete') {
      const input = k.input as { jobId: string; leaseToken: string };
      p = r.ws.queue.complete(mm ? { ...input, result: 'other' } : input, options);
    } else if (k.command === 'release') {
      const input = k.input as { jobId: string; resources: ResourceRequest[] };
      sentRelease = mm ? { ...input, resources: [{ name: 'repo:other' }] } : input;
      p = r.ws.resources.release(sentRelease, options);
    } else p = r.ws.queue.claim(k.input as { workerId: string }, options);
    const outcome = await attempt(p);
    // A replayed claim carries the same lease with a fresh secret: the model's current token moves to it.
    if (outcome.ok) {
      const [before, after] = [leaseOf(k.command, k.answer), leaseOf(k.command, outcome.value)];
      if (before && after) {
        if (before === after)
          m.flag('replay', `replay of ${k.command} ${k.key} answered the same lease secret`);
        m.rekey(before, after);
        setLease(k.answer, k.command, after);
      }
    }
    // A keyed call that changed nothing (a release of what the job did not hold) leaves no record: its replay
    // runs again. The model follows, so exploration can go on past it (MODEL_IGNORE=replay-unrecorded).
    const rerun = k.noop === true && outcome.ok && (mm || canonical(outcome.value) !== canonical(k.answer));
    if (rerun) {
      // The rerun records its own answer (and payload) when it changed something: retire the entry.
      if (m.allocs.has(sentRelease!.jobId)) r.keyed.splice(r.keyed.indexOf(k), 1);
      m.releasePart(sentRelease!.jobId, sentRelease!.resources);
      m.flag(
        'replay-unrecorded',
        `replay of ${k.command} ${k.key}${mm ? ' (other payload)' : ''} ran again: answered ` +
          `${canonical(outcome.value)}, first answer ${canonical(k.answer)}`,
      );
    } else {
      checkOutcome(
        m,
        `replay of ${k.command} ${k.key}`,
        mm ? { ok: false, code: 'IDEMPOTENCY_KEY_REUSED' } : { ok: true },
        outcome,
      );
      if (outcome.ok && canonical(outcome.value) !== canonical(k.answer))
        m.flag(
          'replay',
          `replay of ${k.command} ${k.key} answered ${canonical(outcome.value)}, first answer ${canonical(k.answer)}`,
        );
    }
    await r.settle();
    const n = await sync(m, r);
    if (n > 0) m.flag('replay', `replay of ${k.command} ${k.key} wrote ${n} journal records`);
  }
  toString(): string {
    return `Replay(#${this.n}${this.mismatch ? ', other payload' : ''})`;
  }
}

// ── arbitraries ────────────────────────────────────────────────────────────

const jobPick = (...from: JobPool[]) =>
  fc.record({ from: fc.constantFrom(...from), n: fc.nat({ max: 1000 }) });
const capabilities: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<string[]>([]) },
  { weight: 1, arbitrary: fc.constant<string[]>(['cuda']) },
  { weight: 1, arbitrary: fc.constant<string[]>(['ts']) },
  { weight: 1, arbitrary: fc.constant<string[]>(['cuda', 'ts']) },
);
const resource: fc.Arbitrary<ResourceRequest> = fc.oneof(
  fc.constant({ name: 'repo:a' }),
  fc.constant({ name: 'repo:b' }),
  fc.constant({ name: 'path:src/' }),
  fc.constant({ name: 'path:src/x/' }),
  fc.integer({ min: 1, max: 3 }).map((count) => ({ name: POOL, count })),
);
const resources = fc.array(resource, { minLength: 1, maxLength: 2 });
const spec: fc.Arbitrary<SpecArb> = fc.record({
  parent: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 4, arbitrary: jobPick('live', 'live', 'deepest', 'running', 'any') },
  ),
  deps: fc.oneof(
    { weight: 3, arbitrary: fc.constant<JobPick[]>([]) },
    { weight: 1, arbitrary: fc.array(jobPick('live', 'any'), { minLength: 1, maxLength: 2 }) },
  ),
  priority: fc.constantFrom<Priority>('high', 'normal', 'low'),
  capabilities,
  resources: fc.oneof(
    { weight: 3, arbitrary: fc.constant<ResourceRequest[]>([]) },
    { weight: 2, arbitrary: resources },
  ),
  workerCount: fc.oneof(
    { weight: 8, arbitrary: fc.constant(1) },
    { weight: 3, arbitrary: fc.constant(2) },
    { weight: 1, arbitrary: fc.constant(4) },
  ),
  maxRetries: fc.integer({ min: 0, max: 3 }),
  timeoutSeconds: fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom(20, 45) },
  ),
  failParentOnFailure: fc.oneof(
    { weight: 3, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
});
const leasePick = fc.record({
  current: fc.oneof(
    { weight: 4, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  n: fc.nat({ max: 1000 }),
});
const w = fc.nat({ max: 1000 });

const command: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.array(spec, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([s, many]) => new Submit(s, many)),
  },
  { weight: 6, arbitrary: fc.tuple(w, fc.boolean()).map(([n, keyed]) => new Claim(n, keyed)) },
  { weight: 4, arbitrary: fc.tuple(leasePick, fc.boolean()).map(([l, next]) => new Complete(l, next)) },
  { weight: 2, arbitrary: fc.tuple(leasePick, fc.boolean()).map(([l, retryable]) => new Fail(l, retryable)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        w,
        fc.constantFrom<'current' | 'stale' | 'none'>('current', 'current', 'stale', 'none'),
        fc.nat({ max: 1000 }),
        fc.boolean(),
      )
      .map(([n, t, i, q]) => new Heartbeat(n, t, i, q)),
  },
  { weight: 1, arbitrary: jobPick('live', 'running', 'any').map((p) => new Cancel(p)) },
  { weight: 1, arbitrary: w.map((n) => new Supervise('pause', n)) },
  { weight: 1, arbitrary: w.map((n) => new Supervise('resume', n)) },
  { weight: 1, arbitrary: w.map((n) => new Supervise('terminate', n)) },
  { weight: 1, arbitrary: capabilities.map((c) => new Register(c)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(jobPick('running', 'running', 'any'), resources)
      .map(([p, res]) => new Allocate(p, res)),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(jobPick('allocated', 'any'), resources).map(([p, res]) => new Release(p, res)),
  },
  { weight: 2, arbitrary: fc.constant(new Advance(LEASE_MS)) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 5000 }).map((ms) => new Advance(ms)) },
  { weight: 1, arbitrary: fc.constant(new Restart()) },
  { weight: 1, arbitrary: fc.constant(new Passivate()) },
  { weight: 2, arbitrary: fc.tuple(fc.nat({ max: 1000 }), fc.boolean()).map(([n, mm]) => new Replay(n, mm)) },
);

const INITIAL_WORKERS: string[][] = [[], ['cuda'], ['ts'], ['cuda', 'ts']];

function property(replayPath?: string) {
  return fc.asyncProperty(
    fc.integer(),
    fc.commands([command], { maxCommands: MAX_COMMANDS, size: 'max', ...(replayPath ? { replayPath } : {}) }),
    async (jitterSeed, cmds) => {
      const r = new Real(jitterSeed);
      await r.open();
      try {
        const m = new Model();
        for (const caps of INITIAL_WORKERS) {
          const worker = await r.ws.workers.register({
            name: `w${m.workerOrder.length}`,
            capabilities: caps,
          });
          m.addWorker(worker.id, caps);
        }
        await sync(m, r);
        raise(m, 'setup');
        await fc.asyncModelRun(() => ({ model: m, real: r }), cmds);
      } finally {
        await r.close();
      }
    },
  );
}

/**
 * Appends a failing case to the regression file — one per kind of violation (its first tag), so a known bug
 * that every run hits is kept once, not once per run.
 */
function record(out: fc.RunDetails<[number, Iterable<fc.AsyncCommand<Model, Real, boolean>>]>): void {
  if (!out.failed || out.counterexamplePath === null) return;
  const cmds = out.counterexample?.[1];
  // fc.commands prints its replay path in its toString (`/*replayPath="…"*/`).
  const replayPath = /replayPath="([^"]*)"/.exec(fc.stringify(cmds))?.[1];
  const message = out.errorInstance instanceof Error ? out.errorInstance.message : '';
  const tag = /\[([a-z-]+)\]/.exec(message)?.[1] ?? 'error';
  const entry: Regression = {
    seed: out.seed,
    path: out.counterexamplePath,
    ...(replayPath ? { replayPath } : {}),
    tag,
  };
  const current = JSON.parse(readFileSync(REGRESSIONS, 'utf8')) as Regression[];
  if (current.some((e) => (e.seed === entry.seed && e.path === entry.path) || e.tag === tag)) {
    console.log(`model.property: a case tagged [${tag}] is already in model.regressions.json`);
    return;
  }
  current.push(entry);
  writeFileSync(REGRESSIONS, `${JSON.stringify(current, null, 2)}\n`);
  console.log(`model.property: recorded ${JSON.stringify(entry)} in model.regressions.json`);
}

console.log(
  `model.property: seed ${SEED}, ${NUM_RUNS} runs of up to ${MAX_COMMANDS} commands (rerun with MODEL_SEED=${SEED})`,
);

describe('work distribution against its model', () => {
  for (const reg of regressions) {
    it(`regression [${reg.tag ?? '?'}] seed ${reg.seed} path ${reg.path}`, async () => {
      await fc.assert(property(reg.replayPath), { seed: reg.seed, path: reg.path, endOnFailure: true });
    }, 120_000);
  }

  it(`holds its invariants over ${NUM_RUNS} random runs (seed ${SEED})`, async () => {
    const started = Date.now();
    const out = await fc.check(property(), {
      seed: SEED,
      numRuns: NUM_RUNS,
      endOnFailure: process.env.MODEL_NO_SHRINK === '1',
    });
    const total = [...executed.values()].reduce((a, b) => a + b, 0);
    console.log(
      `model.property: ${out.numRuns} runs, ${total} commands in ${Date.now() - started} ms: ` +
        [...executed].map(([k, v]) => `${k} ${v} (${((perName.get(k) ?? 0) / v).toFixed(2)} ms)`).join(', ') +
        ` (exec ${Math.round(timing.exec)} ms, checks ${Math.round(timing.check)} ms)`,
    );
    console.log(
      `model.property coverage: ${[...coverage]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}`,
    );
    if (process.env.MODEL_RECORD !== '0') record(out);
    if (out.failed) {
      const error =
        out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
      throw new Error(`${error}\n\n${fc.defaultReportMessage(out) ?? ''}`);
    }
    expect(out.numRuns).toBe(NUM_RUNS);
    // The faults the invariants are about did happen (with enough runs to expect each of them).
    if (NUM_RUNS >= 200)
      for (const key of [
        'submit MAX_DEPTH_EXCEEDED',
        'submit INVALID_STATE_TRANSITION',
        'allocate QUOTA_EXCEEDED',
        'allocate ok',
        'complete LEASE_LOST',
        'fail LEASE_LOST',
        'heartbeat LEASE_LOST',
        'claim blocked (queue not empty)',
        'job LEASE_EXPIRED → QUEUED',
        'job LEASE_EXPIRED → FAILED',
        'job TIMEOUT → RETRY_WAIT',
        'job REQUEUE → QUEUED',
        'job RETRY → QUEUED',
        'job CHILDREN_SETTLED → COMPLETED',
        'job DEPENDENCY_FAILED → BLOCKED',
        'job DEPENDENCIES_MET → QUEUED',
        'replay ok',
        'replay IDEMPOTENCY_KEY_REUSED',
      ])
        expect(coverage.get(key) ?? 0, key).toBeGreaterThan(0);
  }, 900_000);
});

/**
 * The smallest reproductions of what the model found (each is also a shrunk case in model.regressions.json).
 * They state the behaviour a user expects, so they fail while the bug is there.
 */
describe('reproductions of what the model found', () => {
  const open = async () => {
    const clock = simulatedClock();
    const t = await openTestOverseer({
      clock,
      durability: 'commit',
      heartbeatTimeoutSeconds: 86_400,
      resources: { pools: { [POOL]: POOL_SIZE } },
    });
    const settle = async () => {
      for (let i = 0; i < 3; i++) await t.ov.runtime.host.pipeline.idle();
    };
    return { t, clock, ws: t.ov.workspace('repro'), settle };
  };

  it.each(['the lease of the parent lapses', 'the parent fails'] as const)(
    'a parent that gives up its lock takes the child working under it along (%s)',
    async (how) => {
      const { t, clock, ws, settle } = await open();
      try {
        const [a, b, c] = [
          (await ws.workers.register({ name: 'a' })).id,
          (await ws.workers.register({ name: 'b' })).id,
          (await ws.workers.register({ name: 'c' })).id,
        ];
        const parent = await ws.jobs.submit({ title: 'parent', resources: [{ name: 'repo:a' }] });
        const pc = await ws.queue.claim({ workerId: a });
        // The child asks for the same lock: its parent holds it, so the child runs under it (re-entrant).
        const child = await ws.jobs.submit({
          title: 'child',
          parentJobId: parent.id,
          resources: [{ name: 'repo:a' }],
          leaseSeconds: 3600,
        });
        expect((await ws.queue.claim({ workerId: b })).job?.id).toBe(child.id);
        if (how === 'the lease of the parent lapses') {
          clock.increment(30_000);
          await settle();
          expect((await ws.jobs.get(parent.id)).status).toBe('QUEUED');
        } else {
          const failed = await ws.queue.fail({
            jobId: parent.id,
            leaseToken: pc.lease!.token,
            reason: 'x',
            retryable: false,
          });
          expect(failed.job.status).toBe('FAILED');
        }
        // The parent gives up its locks, so the subtree that worked under them is canceled with it.
        expect((await ws.jobs.get(child.id)).status).toBe('CANCELED');
        const childLease = (await ws.jobs.get(child.id)).lastError;
        expect(childLease).toContain(parent.id);
        // Another job tree asks for repo:a: it is free, and only that job works under it.
        const other = await ws.jobs.submit({
          title: 'other',
          priority: 'high',
          resources: [{ name: 'repo:a' }],
        });
        const claimed = await ws.queue.claim({ workerId: c });
        expect(claimed.job?.id).toBe(other.id);
        expect((await ws.resources.usage()).locks).toEqual({ 'repo:a': other.id });
      } finally {
        await t.cleanup();
      }
    },
  );

  it('a terminated worker no longer shows the job TERMINATE re-queued', async () => {
    const { t, ws } = await open();
    try {
      const job = await ws.jobs.submit({ title: 'x' });
      const w = (await ws.workers.register({ name: 'w' })).id;
      await ws.queue.claim({ workerId: w });
      const terminated = await ws.workers.terminate(w);
      expect(await ws.jobs.get(job.id)).toMatchObject({ status: 'QUEUED', workerId: null });
      // Bug: the terminated worker still reports jobId = the re-queued job (also in workers.get and workers.list).
      expect(terminated).toMatchObject({ status: 'TERMINATED', jobId: null });
      expect((await ws.workers.get(w)).jobId).toBeNull();
    } finally {
      await t.cleanup();
    }
  });

  it('a keyed call that changed nothing answers its first answer when replayed', async () => {
    const { t, ws } = await open();
    try {
      const w = (await ws.workers.register({ name: 'w' })).id;
      const job = await ws.jobs.submit({ title: 'y', resources: [{ name: 'repo:a' }] });
      const input = { jobId: job.id, resources: [{ name: 'repo:a' }] };
      // The job holds nothing yet: the release changes nothing, and no idempotency record is written.
      expect(await ws.resources.release(input, { idempotencyKey: 'rel-1' })).toEqual({ allocation: null });
      await ws.queue.claim({ workerId: w });
      // Bug: the replay runs again: it releases the lock the claim took and answers another allocation.
      expect(await ws.resources.release(input, { idempotencyKey: 'rel-1' })).toEqual({ allocation: null });
      expect((await ws.resources.usage()).locks).toEqual({ 'repo:a': job.id });
      // And the same key with another payload is not refused either.
      const other = ws.resources.release(
        { ...input, resources: [{ name: 'repo:b' }] },
        { idempotencyKey: 'rel-1' },
      );
      expect((await rejection(other)).code).toBe('IDEMPOTENCY_KEY_REUSED');
    } finally {
      await t.cleanup();
    }
  });

  it('a child failing under a parent that is not RUNNING fails the parent (found by the model, fixed in c27084a)', async () => {
    const { t, clock, ws, settle } = await open();
    try {
      const parent = await ws.jobs.submit({ title: 'parent', priority: 'low' });
      const failing = await ws.jobs.submit({
        title: 'a',
        parentJobId: parent.id,
        priority: 'high',
        execution: { maxRetries: 0 },
      });
      const lapsing = await ws.jobs.submit({
        title: 'b',
        parentJobId: parent.id,
        priority: 'high',
        execution: { maxRetries: 0 },
      });
      const [w1, w2] = [
        (await ws.workers.register({ name: '1' })).id,
        (await ws.workers.register({ name: '2' })).id,
      ];
      const c1 = await ws.queue.claim({ workerId: w1 });
      expect(c1.job?.id).toBe(failing.id);
      const c2 = await ws.queue.claim({ workerId: w2 });
      expect(c2.job?.id).toBe(lapsing.id);
      // Used to answer INVALID_STATE_TRANSITION (the QUEUED parent refused CHILD_FAILED).
      expect(
        (
          await ws.queue.fail({
            jobId: failing.id,
            leaseToken: c1.lease!.token,
            reason: 'x',
            retryable: false,
          })
        ).job.status,
      ).toBe('FAILED');
      expect((await ws.jobs.get(parent.id)).status).toBe('FAILED');
      // Its sibling was canceled with the parent; its lease is gone, not left lapsed forever.
      clock.increment(30_000);
      await settle();
      expect((await ws.jobs.get(lapsing.id)).status).toBe('CANCELED');
      // A lapse into FAILED under a QUEUED parent used to leave the job RUNNING past its lease, for good.
      const p2 = await ws.jobs.submit({ title: 'parent 2', priority: 'low' });
      const c = await ws.jobs.submit({
        title: 'c',
        parentJobId: p2.id,
        priority: 'high',
        execution: { maxRetries: 0 },
      });
      expect((await ws.queue.claim({ workerId: w1 })).job?.id).toBe(c.id);
      clock.increment(30_000);
      await settle();
      expect((await ws.jobs.get(c.id)).status).toBe('FAILED');
      expect((await ws.jobs.get(p2.id)).status).toBe('FAILED');
    } finally {
      await t.cleanup();
    }
  });
});
