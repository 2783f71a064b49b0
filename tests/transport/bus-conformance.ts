// The Bus contract (src/transport/bus.ts), run against every implementation (BullMQ-style conformance).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OverseerError } from '../../src/core/errors.ts';
import { MAX_REQUEST_BYTES, type Bus } from '../../src/transport/bus.ts';

/** Two ends of one bus: the same object in-process, two connections over NATS. */
export interface BusFixture {
  /** Publishes and requests. */
  client: Bus;
  /** Subscribes. */
  server: Bus;
  /** Resolves once every subscription made so far is in effect on both ends (NATS: a flush of each). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export type BusFactory = () => Promise<BusFixture>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds (polling), or fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The rejection of `promise`, or a failure if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<OverseerError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OverseerError);
    return err as OverseerError;
  }
  throw new Error('expected a rejection');
}

export function busConformance(name: string, factory: BusFactory): void {
  describe(`Bus conformance: ${name}`, () => {
    let f: BusFixture;
    beforeEach(async () => {
      f = await factory();
    });
    afterEach(async () => {
      await f.close();
    });

    it('delivers 1,000 publishes of one sender in order', async () => {
      const got: number[] = [];
      f.server.subscribe('conf.order', (p) => void got.push(p as number));
      await f.settle();
      for (let i = 0; i < 1_000; i++) f.client.publish('conf.order', i);
      await until(() => got.length === 1_000, 5_000, '1,000 events');
      expect(got).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    });

    it('matches `*` to one token and `>` to one or more', async () => {
      const star: string[] = [];
      const tail: string[] = [];
      const exact: string[] = [];
      f.server.subscribe('conf.wild.*.x', (_, s) => void star.push(s));
      f.server.subscribe('conf.wild.>', (_, s) => void tail.push(s));
      f.server.subscribe('conf.wild.a.x', (_, s) => void exact.push(s));
      await f.settle();
      for (const s of ['conf.wild.a.x', 'conf.wild.a.b.x', 'conf.wild', 'conf.wild.a', 'conf.wild.b.x'])
        f.client.publish(s, s);
      f.client.publish('conf.wild.end', 'end');
      await until(() => tail.includes('conf.wild.end'), 5_000, 'the last event');
      expect(star).toEqual(['conf.wild.a.x', 'conf.wild.b.x']);
      expect(tail).toEqual([
        'conf.wild.a.x',
        'conf.wild.a.b.x',
        'conf.wild.a',
        'conf.wild.b.x',
        'conf.wild.end',
      ]);
      expect(exact).toEqual(['conf.wild.a.x']);
    });

    it('keeps delivering after a subscriber throws or rejects', async () => {
      const got: number[] = [];
      f.server.subscribe('conf.throw', () => {
        throw new Error('subscriber bug');
      });
      f.server.subscribe('conf.throw', () => Promise.reject(new Error('async subscriber bug')));
      f.server.subscribe('conf.throw', (p) => void got.push(p as number));
      await f.settle();
      f.client.publish('conf.throw', 1);
      f.client.publish('conf.throw', 2);
      await until(() => got.length === 2, 5_000, 'both events');
      expect(got).toEqual([1, 2]);
    });

    it('stops delivery on unsubscribe', async () => {
      const got: string[] = [];
      const marks: string[] = [];
      const sub = f.server.subscribe('conf.unsub', (p) => void got.push(p as string));
      f.server.subscribe('conf.mark', (p) => void marks.push(p as string));
      await f.settle();
      f.client.publish('conf.unsub', 'before');
      await until(() => got.length === 1, 5_000, 'the first event');
      sub.unsubscribe();
      await f.settle();
      f.client.publish('conf.unsub', 'after');
      f.client.publish('conf.mark', 'done');
      await until(() => marks.length === 1, 5_000, 'the marker');
      await sleep(20);
      expect(got).toEqual(['before']);
    });

    it('fails a request nobody serves at once, with reason no_responders (retryable)', async () => {
      const started = Date.now();
      const err = await rejectionOf(f.client.request('conf.nobody', {}, { timeoutMs: 5_000 }));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(err.code).toBe('STORAGE_UNAVAILABLE');
      expect(err.retryable).toBe(true);
      expect(err.details['reason']).toBe('no_responders');
    });

    it('refuses a request above 512 KiB before sending it', async () => {
      const err = await rejectionOf(f.client.request('conf.big', { blob: 'x'.repeat(MAX_REQUEST_BYTES) }));
      expect(err.code).toBe('PAYLOAD_TOO_LARGE');
      expect(err.status).toBe(413);
    });

    it('refuses everything but publish after close', async () => {
      await f.client.close();
      const after = await rejectionOf(f.client.request('conf.closed', {}));
      expect(after.details['reason']).toBe('closed');
      expect(() => f.client.publish('conf.closed', 'dropped')).not.toThrow();
      expect(() => f.client.subscribe('conf.x', () => undefined)).toThrow(OverseerError);
      await f.client.close(); // twice is fine
    });
  });
}
