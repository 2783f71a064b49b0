import type { Logger } from '../core/log.ts';
import {
  checkRequestSize,
  encodePayload,
  requestFailed,
  type Bus,
  type EventHandler,
  type RequestOptions,
  type Subscription,
} from './bus.ts';
import { subjectMatcher } from './subjects.ts';

interface Entry {
  pattern: string;
  matches: (subject: string) => boolean;
  handler: EventHandler;
  active: boolean;
}

/**
 * The in-process bus: a publish is a synchronous fan-out (payloads are shared, not copied: subscribers
 * must not mutate them); nothing serves requests in one process. Zero setup.
 */
export class InProcessBus implements Bus {
  private subs: Entry[] = [];
  private closed = false;
  private readonly log: Logger | undefined;

  constructor(log?: Logger) {
    this.log = log?.child({ component: 'bus' });
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
    const sub: Entry = { pattern, matches: subjectMatcher(pattern), handler, active: true };
    this.subs = [...this.subs, sub];
    return {
      unsubscribe: () => {
        sub.active = false;
        this.subs = this.subs.filter((s) => s !== sub);
      },
    };
  }

  /**
   * Nothing serves a request in one process (a command there is a function call through the dispatch), so a
   * request answers as a NATS with no responder would: `no_responders`, after the same checks of its payload.
   */
  request(subject: string, payload: unknown, _options?: RequestOptions): Promise<unknown> {
    return new Promise(() => {
      if (this.closed) throw requestFailed('closed', subject);
      checkRequestSize(subject, Buffer.byteLength(encodePayload(payload)));
      throw requestFailed('no_responders', subject);
    });
  }

  close(): Promise<void> {
    this.closed = true;
    this.subs = [];
    return Promise.resolve();
  }
}
