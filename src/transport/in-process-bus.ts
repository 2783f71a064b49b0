import { OverseerError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Bus, RequestHandler, Subscription } from './bus.ts';
import { subjectMatches } from './subjects.ts';

interface Sub {
  pattern: string;
  handler: (payload: unknown, subject: string) => void;
}

/** The in-process bus: a publish is a synchronous fan-out, a request a function call. Zero setup. */
export class InProcessBus implements Bus {
  private subs: Sub[] = [];
  private servers: { pattern: string; handler: RequestHandler }[] = [];
  private readonly log: Logger | undefined;

  constructor(log?: Logger) {
    this.log = log?.child({ component: 'bus' });
  }

  publish(subject: string, payload: unknown): void {
    for (const sub of this.subs) {
      if (!subjectMatches(sub.pattern, subject)) continue;
      try {
        sub.handler(payload, subject);
      } catch (err) {
        // A subscriber's failure never reaches the runtime.
        this.log?.warn({ err, subject }, 'subscriber threw');
      }
    }
  }

  subscribe(pattern: string, handler: (payload: unknown, subject: string) => void): Subscription {
    const sub: Sub = { pattern, handler };
    this.subs = [...this.subs, sub];
    return { unsubscribe: () => (this.subs = this.subs.filter((s) => s !== sub)) };
  }

  async request(
    subject: string,
    payload: unknown,
    options?: { headers?: Record<string, string> },
  ): Promise<unknown> {
    const server = this.servers.find((s) => subjectMatches(s.pattern, subject));
    if (!server) throw new OverseerError('NOT_FOUND', `No responder for ${subject}.`, { subject });
    return server.handler(payload, { ...options?.headers, subject });
  }

  serve(pattern: string, handler: RequestHandler): Subscription {
    const entry = { pattern, handler };
    this.servers = [...this.servers, entry];
    return { unsubscribe: () => (this.servers = this.servers.filter((s) => s !== entry)) };
  }

  close(): Promise<void> {
    this.subs = [];
    this.servers = [];
    return Promise.resolve();
  }
}
