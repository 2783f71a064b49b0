/**
 * The NATS fault tests' clients: commands over a NatsBus with a timeout on every request, a watchdog that notices
 * a request that never settles, retries of retryable failures under the same idempotency key, and every attempt
 * recorded in the history (tests/support/history.ts); plus a subscriber that never reads its socket.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Job, Worker } from '../../src/index.ts';
import type { NatsBus } from '../../src/transport/nats-bus.ts';
import { requestCommand } from '../../src/transport/command-requests.ts';
import type { History } from '../support/history.ts';

export { mulberry32 } from '../support/crash-workload.ts';

const TITLE_PREFIX = 'fault:';

/** The job submitted under a key: a function of the key only, so a re-send is the same request. */
export const jobInput = (key: string): { title: string; metadata: { key: string } } => ({
  title: `${TITLE_PREFIX}${key}`,
  metadata: { key },
});

/** The key a job title encodes (null: not a workload job). */
export const keyOfTitle = (title: string): string | null =>
  title.startsWith(TITLE_PREFIX) ? title.slice(TITLE_PREFIX.length) : null;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms until it holds; fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The retryable failures of a request nobody answered (bus.ts `RequestFailure`, less `closed`). */
const RETRYABLE = ['timeout', 'disconnected', 'no_responders'] as const;
type Retryable = (typeof RETRYABLE)[number];

/** How one request (one attempt) ended: an answer, an error code, a retryable failure, or never (hung). */
export type AttemptOutcome = 'ok' | 'error' | Retryable | 'hung';

/** One request sent, from start to settle. */
export interface Attempt {
  command: string;
  key: string | undefined;
  startedAt: number;
  timeoutMs: number;
  settledAt?: number;
  outcome?: AttemptOutcome;
  code?: string;
}

const errorCode = (err: unknown): string => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'THROWN';
};
const reasonOf = (err: unknown): unknown => (err as { details?: { reason?: unknown } }).details?.reason;

function classify(err: unknown): AttemptOutcome {
  const reason = reasonOf(err);
  if (errorCode(err) === 'STORAGE_UNAVAILABLE' && RETRYABLE.includes(reason as Retryable))
    return reason as Retryable;
  return 'error';
}

/**
 * Every request of a test run: the ones in flight, and each one's outcome. A request still unsettled
 * `hungAfterMs` past its own timeout is given up as `hung` (the bus broke its promise to always settle).
 */
export class Attempts {
  readonly all: Attempt[] = [];
  readonly inFlight = new Set<Attempt>();

  constructor(private readonly hungAfterMs: number) {}

  /** Runs `send` as one recorded attempt; rejects like it, or with a `hung` error. */
  async track<T>(
    command: string,
    key: string | undefined,
    timeoutMs: number,
    send: () => Promise<T>,
  ): Promise<T> {
    const attempt: Attempt = { command, key, startedAt: Date.now(), timeoutMs };
    this.all.push(attempt);
    this.inFlight.add(attempt);
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`${command} never settled`), { code: 'HUNG' })),
        timeoutMs + this.hungAfterMs,
      );
    });
    const settle = (outcome: AttemptOutcome, code?: string) => {
      clearTimeout(timer);
      attempt.settledAt = Date.now();
      attempt.outcome = outcome;
      if (code !== undefined) attempt.code = code;
      this.inFlight.delete(attempt);
    };
    try {
      const value = await Promise.race([send(), hung]);
      settle('ok');
      return value;
    } catch (err) {
      const code = errorCode(err);
      settle(code === 'HUNG' ? 'hung' : classify(err), code);
      throw err;
    }
  }

  /** Counts of outcomes, of the attempts `filter` keeps. */
  counts(filter: (a: Attempt) => boolean = () => true): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const a of this.all.filter(filter))
      counts[a.outcome ?? 'pending'] = (counts[a.outcome ?? 'pending'] ?? 0) + 1;
    return counts;
  }
}

/** How a logical operation ended after its retries. */
export type CallResult =
  | { kind: 'ok'; value: unknown; attempts: number }
  | { kind: 'fail'; code: string; attempts: number }
  | { kind: 'gaveUp'; last: AttemptOutcome; attempts: number };

/** Options of a {@link FaultClient}. */
export interface FaultClientOptions {
  workspaceId: string;
  token: string;
  attempts: Attempts;
  /** The timeout of each request. */
  attemptTimeoutMs: number;
  /** How long one logical operation keeps retrying. */
  deadlineMs: number;
  /** A seeded PRNG for the backoff between retries. */
  rand: () => number;
}

/** A command client over its own NatsBus that retries retryable failures with the same idempotency key. */
export class FaultClient {
  constructor(
    readonly bus: NatsBus,
    private readonly options: FaultClientOptions,
  ) {}

  /**
   * Sends `command` until it is answered, refused with a non-retryable error, or the deadline passes. With a
   * history and a process name, each attempt is one operation: `ok`, `fail` (refused, or `no_responders`:
   * nobody received it), or `unknown` (timeout, disconnected, hung: it may have been applied).
   */
  async call(
    command: string,
    input: unknown,
    key?: string,
    record?: { history: History; process: string; args?: unknown },
  ): Promise<CallResult> {
    const { workspaceId, token, attempts, attemptTimeoutMs, deadlineMs, rand } = this.options;
    const deadline = Date.now() + deadlineMs;
    for (let n = 1; ; n++) {
      const op =
        record && key !== undefined
          ? record.history.invoke(record.process, command, key, record.args)
          : undefined;
      let outcome: AttemptOutcome;
      try {
        const value = await attempts.track(command, key, attemptTimeoutMs, () =>
          requestCommand(this.bus, workspaceId, command, input, {
            token,
            timeoutMs: attemptTimeoutMs,
            ...(key === undefined ? {} : { idempotencyKey: key }),
          }),
        );
        if (op) record?.history.ok(op, value);
        return { kind: 'ok', value, attempts: n };
      } catch (err) {
        outcome = errorCode(err) === 'HUNG' ? 'hung' : classify(err);
        if (op && (outcome === 'error' || outcome === 'no_responders'))
          record?.history.fail(op, outcome === 'error' ? errorCode(err) : 'STORAGE_UNAVAILABLE');
        else if (op) record?.history.crash(record.process);
        if (outcome === 'error') return { kind: 'fail', code: errorCode(err), attempts: n };
      }
      if (Date.now() >= deadline) return { kind: 'gaveUp', last: outcome, attempts: n };
      await sleep(25 + Math.floor(rand() * 100));
    }
  }

  /** `call` that must answer: throws on anything but an answer. */
  async must<T>(command: string, input: unknown, key?: string): Promise<T> {
    const result = await this.call(command, input, key);
    if (result.kind !== 'ok') throw new Error(`${command} did not answer: ${JSON.stringify(result)}`);
    return result.value as T;
  }

  /** Every job of the workspace, page by page. */
  async allJobs(): Promise<Job[]> {
    const jobs: Job[] = [];
    for (let cursor: string | null | undefined; cursor !== null;) {
      const page = await this.must<{ jobs: Job[]; nextCursor: string | null }>('jobs.list', {
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      jobs.push(...page.jobs);
      cursor = page.nextCursor;
    }
    return jobs;
  }

  /** Every worker of the workspace. */
  async allWorkers(): Promise<Worker[]> {
    const workers: Worker[] = [];
    for (let cursor: string | null | undefined; cursor !== null;) {
      const page = await this.must<{ workers: Worker[]; nextCursor: string | null }>('workers.list', {
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      workers.push(...page.workers);
      cursor = page.nextCursor;
    }
    return workers;
  }

  /** The journal records after `afterSeq`, up to `untilSeq` (or the end), via `events.list`. */
  async events(afterSeq: number, untilSeq = Infinity): Promise<EventRecord[]> {
    const out: EventRecord[] = [];
    for (let after: number | null = afterSeq; after !== null && after < untilSeq;) {
      const page: { events: EventRecord[]; nextCursor: number | null } = await this.must('events.list', {
        afterSeq: after,
        limit: Math.min(500, untilSeq === Infinity ? 500 : untilSeq - after),
      });
      out.push(...page.events.filter((e) => e.seq <= untilSeq));
      after = page.nextCursor;
    }
    return out;
  }
}

/** A journal record as published and listed. */
export interface EventRecord {
  seq: number;
  kind: string;
  id: string;
  to: string;
  [field: string]: unknown;
}

/**
 * A NATS client that subscribes to `subject` and then never reads its socket again: a dead subscriber. The
 * server buffers for it until its limits, then cuts it off as a slow consumer.
 */
export async function deadSubscriber(port: number, subject: string): Promise<Socket> {
  const socket = tcpConnect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => resolve());
  });
  socket.on('error', () => undefined); // the server resets it once it gives up on it
  // Wait for the PONG, so the subscription is in place, then stop reading for good.
  const pong = new Promise<void>((resolve) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('PONG')) {
        socket.off('data', onData);
        socket.pause();
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.write(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${subject} 1\r\nPING\r\n`);
  await pong;
  return socket;
}
