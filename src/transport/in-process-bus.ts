import { systemClock, type Clock } from '../core/clock.ts';
import { OverseerError, type ErrorEnvelope } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  checkRequestSize,
  decodePayload,
  encodePayload,
  encodeError,
  lowerCaseHeaders,
  requestFailed,
  type Bus,
  type EventHandler,
  type RequestHandler,
  type RequestOptions,
  type Subscription,
} from './bus.ts';
import { subjectMatcher } from './subjects.ts';

interface Entry<H> {
  pattern: string;
  matches: (subject: string) => boolean;
  handler: H;
  active: boolean;
}

/**
 * The in-process bus: a publish is a synchronous fan-out (payloads are shared, not copied: subscribers
 * must not mutate them), a request a function call whose payload and reply are copied through JSON, so
 * it behaves as the NATS bus does. Zero setup.
 */
export class InProcessBus implements Bus {
  private subs: Entry<EventHandler>[] = [];
  private servers: Entry<RequestHandler>[] = [];
  /** For each request in flight, what `close()` calls to end it. */
  private readonly inFlight = new Set<() => void>();
  private closed = false;
  private readonly log: Logger | undefined;
  private readonly clock: Clock;

  constructor(log?: Logger, options: { clock?: Clock } = {}) {
    this.log = log?.child({ component: 'bus' });
    this.clock = options.clock ?? systemClock;
  }

  publish(subject: string, payload: unknown): void {
    if (this.closed) return;
    for (const sub of this.subs) {
      if (!sub.active || !sub.matches(subject)) continue;
      try {
        const result = sub.handler(payload, subject);
        if (result instanceof Promise)
          result.catch((err: unknown) => this.log?.warn({ err, subject }, 'subscriber failed'));
      } catch (err) {
        // A subscriber's failure never reaches the runtime.
        this.log?.warn({ err, subject }, 'subscriber threw');
      }
    }
  }

  subscribe(pattern: string, handler: EventHandler): Subscription {
    if (this.closed) throw requestFailed('closed', pattern);
    const sub: Entry<EventHandler> = { pattern, matches: subjectMatcher(pattern), handler, active: true };
    this.subs = [...this.subs, sub];
    return {
      unsubscribe: () => {
        sub.active = false;
        this.subs = this.subs.filter((s) => s !== sub);
      },
    };
  }

  request(subject: string, payload: unknown, options?: RequestOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.closed) throw requestFailed('closed', subject);
      const text = encodePayload(payload);
      checkRequestSize(subject, Buffer.byteLength(text));
      const server = this.servers.find((s) => s.active && s.matches(subject));
      if (!server) throw requestFailed('no_responders', subject);

      const timeoutMs = options?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const onClose = (): void => abort(requestFailed('closed', subject));
      const settle = (fn: () => void): void => {
        if (!this.inFlight.delete(onClose)) return;
        this.clock.clearTimeout(timer);
        fn();
      };
      const abort = (err: OverseerError): void => settle(() => reject(err));
      const timer = this.clock.setTimeout(
        () => abort(requestFailed('timeout', subject, { timeoutMs })),
        timeoutMs,
      );
      this.inFlight.add(onClose);

      const fail = (err: unknown): void => {
        if (!(err instanceof OverseerError)) this.log?.error({ err, subject }, 'request handler threw');
        abort(OverseerError.fromEnvelope(decodePayload(encodeError(err).text) as ErrorEnvelope));
      };
      const answer = (result: unknown): void => {
        let reply: unknown;
        try {
          reply = decodePayload(encodePayload(result));
        } catch (err) {
          fail(new Error('The reply cannot be encoded as JSON.', { cause: err }));
          return;
        }
        settle(() => resolve(reply));
      };
      try {
        // A function call in the caller's turn, as before; only the values are copied.
        Promise.resolve(
          server.handler(decodePayload(text), lowerCaseHeaders(options?.headers), subject),
        ).then(answer, fail);
      } catch (err) {
        fail(err);
      }
    });
  }

  serve(pattern: string, handler: RequestHandler): Subscription {
    if (this.closed) throw requestFailed('closed', pattern);
    const entry: Entry<RequestHandler> = { pattern, matches: subjectMatcher(pattern), handler, active: true };
    this.servers = [...this.servers, entry];
    return {
      unsubscribe: () => {
        entry.active = false;
        this.servers = this.servers.filter((s) => s !== entry);
      },
    };
  }

  close(): Promise<void> {
    this.closed = true;
    this.subs = [];
    this.servers = [];
    for (const onClose of [...this.inFlight]) onClose();
    return Promise.resolve();
  }
}
