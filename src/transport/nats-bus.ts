import {
  connect,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription as NatsSubscription,
  type SubscriptionOptions,
} from '@nats-io/transport-node';
import { OverseerError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  checkRequestSize,
  encodePayload,
  requestFailed,
  type Bus,
  type EventHandler,
  type RequestOptions,
  type Subscription,
} from './bus.ts';
import { Delivery } from './nats-delivery.ts';
import { decodeReply, toNatsHeaders, toOverseerError } from './nats-messages.ts';
import { splitCredentials } from './split-credentials.ts';

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
  /** How long `close()` lets the connection drain (default 2,000 ms). */
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

/**
 * The Bus over core NATS (`@nats-io/transport-node`): events are plain publishes (at most once), commands
 * requests with JSON payloads, answered by a data node's command service (`nats-command-service.ts`); an error
 * answer is the envelope with a `Nats-Service-Error-Code` header. The connection reconnects forever; while it
 * is down, publishes are dropped and counted, and requests wait for it until their timeout.
 *
 * @example
 * const bus = await NatsBus.connect({ servers: 'nats://127.0.0.1:4222', name: 'node-1', log });
 * const job = await bus.request('overseer.cmd.acme.jobs.get', { id }, { headers: { Authorization: `Bearer ${t}` } });
 */
export class NatsBus implements Bus {
  private readonly log: Logger | undefined;
  private readonly maxPending: number;
  private readonly closeGraceMs: number;
  private connected = true;
  private closing: Promise<void> | undefined;
  private readonly deliveries = new Set<Delivery>();
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

  /**
   * Rejects the requests in flight (reason `closed`), stops event delivery, then drains the connection (within
   * `closeGraceMs`) and closes it. Never hangs.
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
    if (this.isConnected) await Promise.race([this.nc.drain().catch(() => undefined), grace]);
    if (!this.nc.isClosed()) await this.nc.close();
  }

  private natsSubscribe(pattern: string, options: SubscriptionOptions): NatsSubscription {
    try {
      return this.nc.subscribe(pattern, options);
    } catch (err) {
      throw toOverseerError(err, pattern, 0);
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
