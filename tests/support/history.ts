/**
 * A Jepsen-style operation history and its checker (CONVENTIONS: "One history checker for fault tests").
 *
 * Every client records `invoke` before it calls and `ok(value)` or `fail(code)` when the call settles; an
 * operation still pending when its process dies (or times out) is `unknown`: it may or may not have been applied.
 * After the run, `checkHistory` compares the history with the final observed state and counts the anomalies.
 *
 * @example
 * ```ts
 * const history = new History();
 * const op = history.invoke('client-1', 'jobs.submit', 'k1');
 * history.ok(op, await ws.jobs.submit(input, { idempotencyKey: 'k1' }));
 * history.crash('client-1'); // whatever is still pending becomes unknown
 * const report = checkHistory(history, { keyed: [jobsModel], registers: [] });
 * expect(report.pass).toBe(true);
 * ```
 */

/** How an operation ended: acknowledged, refused, or never answered (process died, timed out). */
export type Outcome = 'pending' | 'ok' | 'fail' | 'unknown';

/** One invocation and its completion. */
export interface Operation {
  /** Position in the history (invocation order). */
  readonly index: number;
  /** Who invoked it (a client, a process run). */
  readonly process: string;
  /** The operation's name, e.g. `jobs.submit`. */
  readonly f: string;
  /** The key naming the logical operation (an idempotency key): re-sends of one key are one operation. */
  readonly key: string;
  readonly args?: unknown;
  outcome: Outcome;
  value?: unknown;
  error?: string;
}

/** What `ingest` found besides operation events. */
export interface IngestResult {
  /** Lines that are not `invoke` / `ok` / `fail` events (e.g. `ready`), in order. */
  other: string[];
  /** Completions that matched no pending invocation (a protocol error of the client). */
  orphans: string[];
}

/** The history of a test run: operations of every process in invocation order. */
export class History {
  readonly ops: Operation[] = [];
  private readonly pending = new Map<string, Operation[]>();

  /** Records an invocation; complete it with `ok`, `fail` or `crash`. */
  invoke(process: string, f: string, key: string, args?: unknown): Operation {
    const op: Operation = {
      index: this.ops.length,
      process,
      f,
      key,
      ...(args !== undefined ? { args } : {}),
      outcome: 'pending',
    };
    this.ops.push(op);
    const id = pendingId(process, f, key);
    const list = this.pending.get(id);
    if (list) list.push(op);
    else this.pending.set(id, [op]);
    return op;
  }

  /** The operation was acknowledged with `value`. */
  ok(op: Operation, value: unknown): void {
    this.settle(op, 'ok');
    op.value = value;
  }

  /** The operation was refused with an error code (a definite "not applied"). */
  fail(op: Operation, code: string): void {
    this.settle(op, 'fail');
    op.error = code;
  }

  /** The process died or gave up: every operation of it still pending becomes `unknown`. Returns how many. */
  crash(process: string): number {
    let n = 0;
    for (const op of this.ops) {
      if (op.process === process && op.outcome === 'pending') {
        this.settle(op, 'unknown');
        n++;
      }
    }
    return n;
  }

  /**
   * Reads a process's output in the line protocol `invoke <f> <key> [argsJson]`, `ok <f> <key> <valueJson>`,
   * `fail <f> <key> <code>`. A completion matches the oldest pending invocation of the same process, f and key.
   * A last line without its newline is ignored (the process died while writing it), which can only turn an
   * answer into `unknown`.
   */
  ingest(process: string, text: string): IngestResult {
    const result: IngestResult = { other: [], orphans: [] };
    const lines = text.split('\n');
    lines.pop(); // '' after the last newline, or a partial line
    for (const line of lines) {
      const [kind, f, key] = line.split(' ', 3);
      if ((kind !== 'invoke' && kind !== 'ok' && kind !== 'fail') || !f || !key) {
        result.other.push(line);
        continue;
      }
      const rest = line.slice(kind.length + f.length + key.length + 3);
      if (kind === 'invoke') {
        this.invoke(process, f, key, rest ? JSON.parse(rest) : undefined);
        continue;
      }
      const op = this.pending.get(pendingId(process, f, key))?.[0];
      if (!op) {
        result.orphans.push(line);
        continue;
      }
      if (kind === 'ok') this.ok(op, rest ? JSON.parse(rest) : undefined);
      else this.fail(op, rest);
    }
    return result;
  }

  /** Operations of one name (or all), optionally of one outcome. */
  select(f?: string, outcome?: Outcome): Operation[] {
    return this.ops.filter(
      (op) => (f === undefined || op.f === f) && (outcome === undefined || op.outcome === outcome),
    );
  }

  private settle(op: Operation, outcome: Exclude<Outcome, 'pending'>): void {
    if (op.outcome !== 'pending') throw new Error(`operation ${op.f} ${op.key} is already ${op.outcome}`);
    op.outcome = outcome;
    const id = pendingId(op.process, op.f, op.key);
    const list = this.pending.get(id);
    if (!list) return;
    const rest = list.filter((o) => o !== op);
    if (rest.length > 0) this.pending.set(id, rest);
    else this.pending.delete(id);
  }
}

const pendingId = (process: string, f: string, key: string) => `${process}\u0000${f}\u0000${key}`;

/**
 * Keyed operations (each key is one logical operation, however often it is re-sent), checked against the final
 * state through `applied`.
 */
export interface KeyedModel {
  /** The operation names this model covers, e.g. `['jobs.submit']`. */
  readonly fs: readonly string[];
  /** How many times the logical operation `key` is applied in the final state (0, 1, or more). */
  applied: (key: string) => number;
  /** Every key the final state holds, to find what nobody invoked. */
  readonly present: Iterable<string>;
  /** What identifies an answer: every `ok` of one key must agree on it (a replay returns the first answer). */
  identity?: (value: unknown) => string;
}

/**
 * Operations that set an object's state (pause/resume). Operations on one target must be sequential (one client
 * per target at a time); the final state must match the last acknowledged one, unless an operation after it has
 * an unknown outcome.
 */
export interface RegisterModel {
  readonly fs: readonly string[];
  /** The object an operation writes, e.g. a worker id. */
  target: (op: Operation) => string;
  /** The state the operation leaves its target in. */
  expected: (op: Operation) => string;
  /** The state found at the end (undefined: the object is gone). */
  observed: (target: string) => string | undefined;
}

/** One anomaly, for the failure message. */
export interface Anomaly {
  kind: 'lost' | 'duplicated' | 'unexpected' | 'failedButApplied' | 'divergent' | 'registerInconsistent';
  f: string;
  key: string;
  detail: string;
}

/** The checker's counts. `pass` means every anomaly count is zero. */
export interface CheckReport {
  invoked: number;
  ok: number;
  failed: number;
  unknown: number;
  /** Acknowledged, but not in the final state. */
  lost: number;
  /** One logical operation applied more than once (e.g. two jobs for one idempotency key). */
  duplicated: number;
  /** In the final state, but never invoked. */
  unexpected: number;
  /** Every invocation was refused, yet it is in the final state. */
  failedButApplied: number;
  /** Acknowledged more than once with different answers. */
  divergent: number;
  /** A target's final state differs from its last acknowledged operation with no unknown one after it. */
  registerInconsistent: number;
  /** Informational: keys never acknowledged whose unknown outcome turned out applied / not applied. */
  unknownApplied: number;
  unknownNotApplied: number;
  /** Informational: register targets skipped because an operation after the last ok is unknown. */
  registerInconclusive: number;
  anomalies: Anomaly[];
  pass: boolean;
}

const canonical = (value: unknown): string => JSON.stringify(value) ?? 'undefined';

/** Counts lost, duplicated, unexpected, failed-but-applied, divergent and register-inconsistent operations. */
export function checkHistory(
  history: History,
  models: { keyed?: readonly KeyedModel[]; registers?: readonly RegisterModel[] },
): CheckReport {
  const pending = history.ops.filter((op) => op.outcome === 'pending');
  if (pending.length > 0) throw new Error(`${pending.length} operations still pending: call crash() first`);
  const report: CheckReport = {
    invoked: history.ops.length,
    ok: history.select(undefined, 'ok').length,
    failed: history.select(undefined, 'fail').length,
    unknown: history.select(undefined, 'unknown').length,
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    failedButApplied: 0,
    divergent: 0,
    registerInconsistent: 0,
    unknownApplied: 0,
    unknownNotApplied: 0,
    registerInconclusive: 0,
    anomalies: [],
    pass: false,
  };
  const flag = (a: Anomaly) => {
    report[a.kind]++;
    report.anomalies.push(a);
  };

  for (const model of models.keyed ?? []) {
    const byKey = new Map<string, Operation[]>();
    for (const op of history.ops) {
      if (!model.fs.includes(op.f)) continue;
      const list = byKey.get(op.key);
      if (list) list.push(op);
      else byKey.set(op.key, [op]);
    }
    const identity = model.identity ?? canonical;
    for (const [key, ops] of byKey) {
      const f = ops[0]!.f;
      const applied = model.applied(key);
      const oks = ops.filter((op) => op.outcome === 'ok');
      const unknown = ops.some((op) => op.outcome === 'unknown');
      if (applied > 1) flag({ kind: 'duplicated', f, key, detail: `applied ${applied} times` });
      if (oks.length > 0) {
        if (applied === 0) flag({ kind: 'lost', f, key, detail: `acknowledged ${oks.length}×, not applied` });
        const answers = new Set(oks.map((op) => identity(op.value)));
        if (answers.size > 1)
          flag({ kind: 'divergent', f, key, detail: `answers ${[...answers].join(' ≠ ')}` });
      } else if (unknown) {
        if (applied > 0) report.unknownApplied++;
        else report.unknownNotApplied++;
      } else if (applied > 0) {
        flag({ kind: 'failedButApplied', f, key, detail: `refused (${ops.map((o) => o.error).join(', ')})` });
      }
    }
    for (const key of model.present) {
      if (!byKey.has(key)) flag({ kind: 'unexpected', f: model.fs.join('|'), key, detail: 'never invoked' });
    }
  }

  for (const model of models.registers ?? []) {
    const byTarget = new Map<string, Operation[]>();
    for (const op of history.ops) {
      if (!model.fs.includes(op.f)) continue;
      const target = model.target(op);
      const list = byTarget.get(target);
      if (list) list.push(op);
      else byTarget.set(target, [op]);
    }
    for (const [target, ops] of byTarget) {
      let last = -1;
      ops.forEach((op, i) => {
        if (op.outcome === 'ok') last = i;
      });
      if (last < 0) continue;
      if (ops.slice(last + 1).some((op) => op.outcome === 'unknown')) {
        report.registerInconclusive++;
        continue;
      }
      const lastOk = ops[last]!;
      const expected = model.expected(lastOk);
      const observed = model.observed(target);
      if (observed !== expected) {
        flag({
          kind: 'registerInconsistent',
          f: lastOk.f,
          key: lastOk.key,
          detail: `${target}: last acknowledged ${lastOk.f} leaves ${expected}, found ${observed ?? 'nothing'}`,
        });
      }
    }
  }

  report.pass =
    report.lost +
      report.duplicated +
      report.unexpected +
      report.failedButApplied +
      report.divergent +
      report.registerInconsistent ===
    0;
  return report;
}

/** A one-paragraph summary of a report, anomalies first (at most `max` of them). */
export function describeReport(report: CheckReport, max = 20): string {
  const { anomalies, ...counts } = report;
  const lines = anomalies.slice(0, max).map((a) => `  ${a.kind} ${a.f} ${a.key}: ${a.detail}`);
  if (anomalies.length > max) lines.push(`  … and ${anomalies.length - max} more`);
  return [JSON.stringify(counts), ...lines].join('\n');
}
