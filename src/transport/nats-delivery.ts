import type { Msg } from '@nats-io/transport-node';
import type { Logger } from '../core/log.ts';
import { decodePayload, type EventHandler } from './bus.ts';

/** One subscription's bounded buffer: the NATS callback only enqueues; handlers run one at a time, in order. */
export class Delivery {
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
