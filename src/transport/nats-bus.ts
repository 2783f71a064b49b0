import {
  connect,
  headers as natsHeaders,
  ClosedConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription as NatsSubscription,
  type SubscriptionOptions,
} from '@nats-io/transport-node';
import { ErrorCodes, OverseerError, type ErrorEnvelope } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  checkRequestSize,
  decodePayload,
  encodePayload,
  encodeError,
  requestFailed,
  type Bus,
  type EventHandler,
  type RequestHandler,
  type RequestOptions,
  type Subscription,
} from './bus.ts';

/** The header a served request's error reply carries: the HTTP status of its code (NATS services style). */
export const SERVICE_ERROR_CODE_HEADER = 'Nats-Service-Error-Code';
/** The header that carries the error's one-line message. */
export const SERVICE_ERROR_HEADER = 'Nats-Service-Error';
/** The queue group every server of a pattern joins, as the NATS services framework does. */
export const SERVE_QUEUE_GROUP = 'q';

/** Options of {@link NatsBus.connect}. */
export interface NatsBusOptions {
  servers: string | string[];
  /** The connection name the server shows (`/connz`). */
  name?: string;
  /** Where replies arrive (`_INBOX` by default); a client fenced by permissions needs its own. */
  inboxPrefix?: string;
  log?: Logger;
  /** Wait between reconnect attempts (default 1,000 ms; the client adds jitter). Reconnects never stop. */
  reconnectTimeWaitMs?: number;
  /** Events buffered per subscription while its handler is busy (default 10,000); beyond, dropped. */
  maxPendingMessages?: number;
  /** How long `close()` lets served handlers finish and the connection drain (default 2,000 ms). */
  closeGraceMs?: number;
  /** Anything else for the client (credentials, TLS, ping interval, …). */
  connection?: Omit<NodeConnectionOptions, 'servers' | 'name' | 'inboxPrefix'>;
}

/** A connection event, as NATS reports it (`disconnect`, `reconnecting`, `reconnect`, `error`, `close`, …). */
export interface NatsBusStatus {
  type: string;
  server?: string;
}

/** Counters of what the bus could not carry. */
export interface NatsBusMetrics {
  /** Events published. */
  published: number;
  /** Events not published: the connection was closed or down, or the payload was refused. */
  dropped: number;
  /** Events received but never handed to a handler: its buffer was full, or the payload was not JSON. */
  droppedMessages: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** One subscription's bounded buffer: the NATS callback only enqueues; handlers run one at a time, in order. */
class Delivery {
  private queue: (Msg | undefined)[] = [];
  private head = 0;
  private running = false;
  private overflowing = false;
  active = true;

  constructor(
    private readonly pattern: string,
    private readonly handler: EventHandler,
    private readonly max: number,
    private readonly onDrop: () => void,
    private readonly log: Logger | undefined,
  ) {}

  get pending(): number {
    return this.queue.length - this.head;
  }

  push(msg: Msg): void {
    if (!this.active) return;
    if (this.pending >= this.max) {
      this.onDrop();
      if (!this.overflowing)
        this.log?.warn(
          { pattern: this.pattern, pending: this.pending },
          'subscriber too slow: buffer full, dropping events',
        );
      this.overflowing = true;
      return;
    }
    this.overflowing = false;
    this.queue.push(msg);
    if (!this.running) void this.run();
  }

  stop(): void {
    this.active = false;
    this.queue = [];
    this.head = 0;
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.active && this.head < this.queue.length) {
      const msg = this.queue[this.head] as Msg;
      this.queue[this.head++] = undefined;
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      let payload: unknown;
      try {
        payload = decodePayload(msg.string());
      } catch (err) {
        this.onDrop();
        this.log?.warn({ err, subject: msg.subject }, 'event is not JSON; dropped');
        continue;
      }
      try {
        const result = this.handler(payload, msg.subject);
        if (result instanceof Promise) await result;
      } catch (err) {
        this.log?.warn({ err, subject: msg.subject }, 'subscriber threw');
      }
    }
    this.running = false;
  }
}

/**
 * The Bus over core NATS (`@nats-io/transport-node`): events are plain publishes (at most once), commands
 * request/reply with JSON payloads, served in the queue group `q`. Errors a handler throws travel as the
 * error envelope with a `Nats-Service-Error-Code` header. The connection reconnects forever; while it is
 * down, publishes are dropped and counted, and requests wait for it until their timeout.
 *
 * @example
 * const bus = await NatsBus.connect({ servers: 'nats://127.0.0.1:4222', name: 'node-1', log });
 * bus.serve('overseer.cmd.acme.>', async (payload, headers) => dispatch(payload, headers));
 */
export class NatsBus implements Bus {
  private readonly log: Logger | undefined;
  private readonly maxPending: number;
  private readonly closeGraceMs: number;
  private connected = true;
  private closing: Promise<void> | undefined;
  private readonly deliveries = new Set<Delivery>();
  private readonly served = new Set<NatsSubscription>();
  private readonly handling = new Set<Promise<void>>();
  /** For each request in flight, what `close()` calls to end it. */
  private readonly inFlight = new Set<() => void>();
  /** Requests waiting for the connection to come back. */
  private readonly waiting = new Set<() => void>();
  private readonly listeners = new Set<(status: NatsBusStatus) => void>();
  private readonly counters: NatsBusMetrics = { published: 0, dropped: 0, droppedMessages: 0 };
  private dropStreak = 0;

  private constructor(
    private readonly nc: NatsConnection,
    options: NatsBusOptions,
  ) {
    this.log = options.log?.child({ component: 'bus', transport: 'nats' });
    this.maxPending = options.maxPendingMessages ?? 10_000;
    this.closeGraceMs = options.closeGraceMs ?? 2_000;
    void this.watch();
  }

  /** Connects to NATS; fails with `STORAGE_UNAVAILABLE` (reason `unreachable`) if no server answers. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const { servers, user, pass, token } = splitCredentials(options.servers);
    try {
      const nc = await connect({
        noAsyncTraces: true,
        ...(user === undefined ? {} : { user, pass: pass ?? '' }),
        ...(token === undefined ? {} : { token }),
        ...options.connection,
        servers,
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.inboxPrefix === undefined ? {} : { inboxPrefix: options.inboxPrefix }),
        maxReconnectAttempts: -1,
        reconnectTimeWait: options.reconnectTimeWaitMs ?? 1_000,
      });
      return new NatsBus(nc, options);
    } catch (cause) {
      throw new OverseerError(
        'STORAGE_UNAVAILABLE',
        'Cannot connect to NATS; check the server address and credentials.',
        { reason: 'unreachable', servers },
        { cause },
      );
    }
  }

  /** The underlying connection, for transport code that needs more than the Bus (the services framework). */
  get connection(): NatsConnection {
    return this.nc;
  }

  /** The largest message the server accepts (its INFO `max_payload`), in bytes. */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** Whether the connection is up right now. */
  get isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  /** Events not published (see {@link NatsBusMetrics}). */
  get dropped(): number {
    return this.counters.dropped;
  }

  /** Events received but not delivered (see {@link NatsBusMetrics}). */
  get droppedMessages(): number {
    return this.counters.droppedMessages;
  }

  /** A copy of the counters. */
  metrics(): NatsBusMetrics {
    return { ...this.counters };
  }

  /** Calls `listener` on every connection event; returns the function that stops it. */
  onStatus(listener: (status: NatsBusStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the server has processed everything sent so far (subscriptions included). */
  async flush(): Promise<void> {
    await this.nc.flush();
  }

  publish(subject: string, payload: unknown): void {
    if (this.closing || !this.isConnected)
      return this.drop(subject, this.closing ? 'closed' : 'disconnected');
    try {
      // A Buffer: nats.js would encode a string with TextEncoder, several times slower.
      this.nc.publish(subject, Buffer.from(encodePayload(payload)));
    } catch (err) {
      return this.drop(subject, 'refused', err);
    }
    this.counters.published++;
    this.dropStreak = 0;
  }

  subscribe(pattern: string, handler: EventHandler): Subscription {
    if (this.closing) throw requestFailed('closed', pattern);
    const delivery = new Delivery(
      pattern,
      handler,
      this.maxPending,
      () => this.counters.droppedMessages++,
      this.log,
    );
    const sub = this.natsSubscribe(pattern, {
      callback: (err, msg) => {
        if (err) this.log?.warn({ err, pattern }, 'subscription failed');
        else delivery.push(msg);
      },
    });
    this.deliveries.add(delivery);
    return {
      unsubscribe: () => {
        delivery.stop();
        this.deliveries.delete(delivery);
        if (!sub.isClosed()) sub.unsubscribe();
      },
    };
  }

  async request(subject: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (this.closing) throw requestFailed('closed', subject);
    const data = Buffer.from(encodePayload(payload));
    checkRequestSize(subject, data.byteLength);
    if (data.byteLength > this.maxPayload)
      throw new OverseerError('PAYLOAD_TOO_LARGE', 'The request exceeds the server max_payload.', {
        subject,
        bytes: data.byteLength,
        limit: this.maxPayload,
      });
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const headers = toNatsHeaders(options.headers);

    let onClose = (): void => undefined;
    const closed = new Promise<never>((_, reject) => {
      onClose = () => reject(requestFailed('closed', subject));
    });
    this.inFlight.add(onClose);
    try {
      if (!this.isConnected) {
        await Promise.race([this.untilConnected(deadline), closed]);
        if (!this.isConnected) throw requestFailed('disconnected', subject, { timeoutMs });
      }
      const request = this.nc.request(subject, data, {
        timeout: Math.max(1, deadline - Date.now()),
        ...(headers ? { headers } : {}),
      });
      return decodeReply(subject, await Promise.race([request, closed]));
    } catch (err) {
      throw toOverseerError(err, subject, timeoutMs);
    } finally {
      this.inFlight.delete(onClose);
    }
  }

  serve(pattern: string, handler: RequestHandler): Subscription {
    if (this.closing) throw requestFailed('closed', pattern);
    const sub = this.natsSubscribe(pattern, {
      queue: SERVE_QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) return this.log?.warn({ err, pattern }, 'serving subscription failed');
        const answering = this.answer(msg, handler)
          .catch((err: unknown) => this.log?.error({ err, subject: msg.subject }, 'could not answer'))
          .finally(() => this.handling.delete(answering));
        this.handling.add(answering);
      },
    });
    this.served.add(sub);
    return {
      unsubscribe: () => {
        this.served.delete(sub);
        if (!sub.isClosed()) sub.unsubscribe();
      },
    };
  }

  /**
   * Rejects the requests in flight (reason `closed`), stops event delivery, lets served handlers finish
   * and answer (within `closeGraceMs`), then drains and closes the connection. Never hangs.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const onClose of [...this.inFlight]) onClose();
    for (const wake of [...this.waiting]) wake();
    for (const delivery of this.deliveries) delivery.stop();
    this.deliveries.clear();
    const grace = sleep(this.closeGraceMs);
    if (this.isConnected) {
      const stopServing = [...this.served].map((sub) => sub.drain().catch(() => undefined));
      await Promise.race([Promise.all([...stopServing, ...this.handling]), grace]);
      await Promise.race([this.nc.drain().catch(() => undefined), grace]);
    }
    if (!this.nc.isClosed()) await this.nc.close();
  }

  private natsSubscribe(pattern: string, options: SubscriptionOptions): NatsSubscription {
    try {
      return this.nc.subscribe(pattern, options);
    } catch (err) {
      throw toOverseerError(err, pattern, 0);
    }
  }

  /** The NATS callback for a served subject: runs the handler and always answers. */
  private async answer(msg: Msg, handler: RequestHandler): Promise<void> {
    if (!msg.reply) {
      this.log?.debug({ subject: msg.subject }, 'publish on a served subject ignored (no reply subject)');
      return;
    }
    let reply: string;
    try {
      let payload: unknown;
      try {
        payload = decodePayload(msg.string());
      } catch {
        throw new OverseerError('VALIDATION_FAILED', 'The request payload is not JSON.');
      }
      const result = await handler(payload, fromNatsHeaders(msg.headers), msg.subject);
      try {
        reply = encodePayload(result);
      } catch (err) {
        throw new Error('The reply cannot be encoded as JSON.', { cause: err });
      }
      if (Buffer.byteLength(reply) > this.maxPayload)
        throw new OverseerError('PAYLOAD_TOO_LARGE', 'The reply exceeds the server max_payload.', {
          subject: msg.subject,
          limit: this.maxPayload,
        });
    } catch (err) {
      if (!(err instanceof OverseerError))
        this.log?.error({ err, subject: msg.subject }, 'request handler threw');
      const { code, text } = encodeError(err);
      const h = natsHeaders();
      h.set(SERVICE_ERROR_CODE_HEADER, String(ErrorCodes[code].status));
      h.set(SERVICE_ERROR_HEADER, code);
      this.respond(msg, text, h);
      return;
    }
    this.respond(msg, reply);
  }

  private respond(msg: Msg, data: string, headers?: MsgHdrs): void {
    try {
      msg.respond(Buffer.from(data), headers ? { headers } : undefined);
    } catch (err) {
      this.log?.warn({ err, subject: msg.subject }, 'could not answer a request');
    }
  }

  /** Follows the connection's status: tracks `connected` and wakes waiting requests on reconnect. */
  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.connected = false;
      if (status.type === 'reconnect') {
        this.connected = true;
        for (const wake of [...this.waiting]) wake();
      }
      const server = 'server' in status ? status.server : undefined;
      if (status.type === 'disconnect' || status.type === 'reconnect')
        this.log?.warn({ status: status.type, server }, `NATS ${status.type}`);
      else if (status.type === 'error') this.log?.warn({ err: status.error }, 'NATS error');
      const event: NatsBusStatus =
        server === undefined ? { type: status.type } : { type: status.type, server };
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (err) {
          this.log?.warn({ err }, 'status listener threw');
        }
      }
    }
    this.connected = false;
  }

  /** Resolves when the connection is back, the bus closes, or `deadline` passes, whichever comes first. */
  private untilConnected(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
      this.waiting.add(wake);
    });
  }

  private drop(subject: string, reason: string, err?: unknown): void {
    this.counters.dropped++;
    // One line per run of drops (and every 1,000th), not one per event during an outage.
    if (this.dropStreak++ % 1_000 === 0)
      this.log?.warn({ subject, reason, err, dropped: this.counters.dropped }, 'event dropped');
  }
}

/**
 * Server URLs without their `user:password@` part, and those credentials (from the first URL that has them):
 * nats.js does not read credentials from a URL, and they must not reach logs or error details.
 */
export function splitCredentials(urls: string | string[]): {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
} {
  let auth: string | undefined;
  const servers = (Array.isArray(urls) ? urls : [urls]).map((raw) => {
    const m = /^((?:[a-z][a-z0-9+.-]*:\/\/)?)([^@/]*)@(.*)$/i.exec(raw);
    if (!m) return raw;
    const [, scheme, credentials, rest] = m as unknown as [string, string, string, string];
    auth ??= credentials;
    return `${scheme}${rest}`;
  });
  if (auth === undefined) return { servers };
  const i = auth.indexOf(':');
  // `nats://TOKEN@host` carries a token; `nats://user:pass@host` a user and password.
  if (i < 0) return { servers, token: decodeURIComponent(auth) };
  return { servers, user: decodeURIComponent(auth.slice(0, i)), pass: decodeURIComponent(auth.slice(i + 1)) };
}

function toNatsHeaders(headers: Record<string, string> | undefined): MsgHdrs | undefined {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return undefined;
  const h = natsHeaders();
  try {
    for (const [name, value] of entries) h.set(name, value);
  } catch (cause) {
    throw new OverseerError('VALIDATION_FAILED', 'A header name or value is invalid.', {}, { cause });
  }
  return h;
}

/** The headers of a message with lower-cased names, as a request handler sees them. */
export function fromNatsHeaders(headers: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const name of headers.keys()) out[name.toLowerCase()] = headers.get(name);
  return out;
}

function decodeReply(subject: string, msg: Msg): unknown {
  let body: unknown;
  try {
    body = decodePayload(msg.string());
  } catch {
    throw new OverseerError('INTERNAL', `The reply on ${subject} is not JSON.`, { subject });
  }
  const status = msg.headers?.get(SERVICE_ERROR_CODE_HEADER);
  if (!status) return body;
  if (isEnvelope(body)) throw OverseerError.fromEnvelope(body);
  throw new OverseerError('INTERNAL', msg.headers?.get(SERVICE_ERROR_HEADER) || `The responder failed.`, {
    subject,
    status,
  });
}

function isEnvelope(value: unknown): value is ErrorEnvelope {
  const error = (value as { error?: unknown } | undefined)?.error as Record<string, unknown> | undefined;
  return typeof error?.['code'] === 'string' && typeof error['message'] === 'string';
}

/** Maps what nats.js throws to the Bus's errors (see RequestFailure in bus.ts). */
function toOverseerError(err: unknown, subject: string, timeoutMs: number): OverseerError {
  if (err instanceof OverseerError) return err;
  if (err instanceof TimeoutError) return requestFailed('timeout', subject, { timeoutMs }, err);
  if (err instanceof RequestError && err.isNoResponders())
    return requestFailed('no_responders', subject, {}, err);
  if (err instanceof ClosedConnectionError || err instanceof DrainingConnectionError)
    return requestFailed('closed', subject, {}, err);
  if (err instanceof RequestError && err.message.includes('closed'))
    return requestFailed('closed', subject, {}, err);
  if (err instanceof PermissionViolationError)
    return new OverseerError('NOT_FOUND', `No such subject: ${subject}.`, { subject }, { cause: err });
  if (err instanceof InvalidSubjectError || err instanceof InvalidArgumentError)
    return new OverseerError('VALIDATION_FAILED', err.message, { subject }, { cause: err });
  return requestFailed('disconnected', subject, { error: String(err) }, err);
}
