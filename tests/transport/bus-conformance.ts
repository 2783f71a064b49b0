// The Bus contract (src/transport/bus.ts), run against every implementation (BullMQ-style conformance).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OverseerError } from '../../src/core/errors.ts';
import { MAX_REQUEST_BYTES, type Bus } from '../../src/transport/bus.ts';

/** Two ends of one bus: the same object in-process, two connections over NATS. */
export interface BusFixture {
  /** Publishes and requests. */
  client: Bus;
  /** Subscribes and serves. */
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

const never = (): Promise<never> => new Promise<never>(() => undefined);

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

    it('answers a request with the reply of the server, as JSON', async () => {
      const seen: { payload: unknown; subject: string }[] = [];
      f.server.serve('conf.echo.*', (payload, _headers, subject) => {
        seen.push({ payload, subject });
        return Promise.resolve({ echo: payload, at: new Date(0) });
      });
      await f.settle();
      const reply = await f.client.request('conf.echo.one', { n: 1, when: new Date(0), gone: undefined });
      expect(reply).toEqual({
        echo: { n: 1, when: '1970-01-01T00:00:00.000Z' },
        at: '1970-01-01T00:00:00.000Z',
      });
      expect(seen).toEqual([
        { payload: { n: 1, when: '1970-01-01T00:00:00.000Z' }, subject: 'conf.echo.one' },
      ]);
    });

    it('carries `undefined` both ways', async () => {
      let got: unknown = 'unset';
      f.server.serve('conf.void', (payload) => {
        got = payload;
        return Promise.resolve(undefined);
      });
      await f.settle();
      await expect(f.client.request('conf.void', undefined)).resolves.toBeUndefined();
      expect(got).toBeUndefined();
    });

    it('hands the request headers to the handler with lower-cased names', async () => {
      let seen: Readonly<Record<string, string>> = {};
      f.server.serve('conf.headers', (_p, headers) => {
        seen = headers;
        return Promise.resolve('ok');
      });
      await f.settle();
      await f.client.request(
        'conf.headers',
        {},
        {
          headers: { Authorization: 'Bearer abc.def', 'Idempotency-Key': 'k-1' },
        },
      );
      expect(seen['authorization']).toBe('Bearer abc.def');
      expect(seen['idempotency-key']).toBe('k-1');
    });

    it('rejects with the same OverseerError a handler throws', async () => {
      f.server.serve('conf.fail', () =>
        Promise.reject(
          new OverseerError('INVALID_STATE_TRANSITION', 'Job is COMPLETED.', { state: 'COMPLETED' }),
        ),
      );
      await f.settle();
      const err = await rejectionOf(f.client.request('conf.fail', {}));
      expect(err.code).toBe('INVALID_STATE_TRANSITION');
      expect(err.status).toBe(409);
      expect(err.message).toBe('Job is COMPLETED.');
      expect(err.details).toEqual({ state: 'COMPLETED' });
    });

    it('rejects with INTERNAL, without the message, when a handler throws something else', async () => {
      f.server.serve('conf.bug', () => {
        throw new TypeError('secret internals');
      });
      await f.settle();
      const err = await rejectionOf(f.client.request('conf.bug', {}));
      expect(err.code).toBe('INTERNAL');
      expect(err.message).not.toContain('secret');
    });

    it('fails a request nobody serves at once, with reason no_responders (retryable)', async () => {
      const started = Date.now();
      const err = await rejectionOf(f.client.request('conf.nobody', {}, { timeoutMs: 5_000 }));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(err.code).toBe('STORAGE_UNAVAILABLE');
      expect(err.retryable).toBe(true);
      expect(err.details['reason']).toBe('no_responders');
    });

    it('fails a request unanswered within timeoutMs, with reason timeout, about on time', async () => {
      f.server.serve('conf.slow', never);
      await f.settle();
      const started = Date.now();
      const err = await rejectionOf(f.client.request('conf.slow', {}, { timeoutMs: 200 }));
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(190);
      expect(took).toBeLessThan(1_000);
      expect(err.code).toBe('STORAGE_UNAVAILABLE');
      expect(err.details['reason']).toBe('timeout');
    });

    it('round-trips a 400 KiB payload and refuses one above 512 KiB before sending it', async () => {
      let calls = 0;
      f.server.serve('conf.big', (payload) => {
        calls++;
        return Promise.resolve(payload);
      });
      await f.settle();
      const big = { blob: 'x'.repeat(400 * 1024) };
      await expect(f.client.request('conf.big', big)).resolves.toEqual(big);
      expect(calls).toBe(1);
      const tooBig = { blob: 'x'.repeat(MAX_REQUEST_BYTES) };
      const err = await rejectionOf(f.client.request('conf.big', tooBig));
      expect(err.code).toBe('PAYLOAD_TOO_LARGE');
      expect(err.status).toBe(413);
      expect(calls).toBe(1);
    });

    it('answers each request once when several servers share a pattern', async () => {
      const counts = [0, 0];
      for (const i of [0, 1])
        f.server.serve('conf.shared', () => {
          counts[i] = (counts[i] ?? 0) + 1;
          return Promise.resolve(i);
        });
      await f.settle();
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => f.client.request('conf.shared', {})),
      );
      expect(replies).toHaveLength(20);
      expect((counts[0] ?? 0) + (counts[1] ?? 0)).toBe(20);
    });

    it('stops serving on unsubscribe', async () => {
      const sub = f.server.serve('conf.stop', () => Promise.resolve('up'));
      await f.settle();
      await expect(f.client.request('conf.stop', {})).resolves.toBe('up');
      sub.unsubscribe();
      await f.settle();
      const err = await rejectionOf(f.client.request('conf.stop', {}, { timeoutMs: 1_000 }));
      expect(err.details['reason']).toBe('no_responders');
    });

    it('rejects the requests in flight when closed, and everything after', async () => {
      f.server.serve('conf.hang', never);
      await f.settle();
      const started = Date.now();
      const pending = [1, 2, 3].map((n) =>
        rejectionOf(f.client.request('conf.hang', { n }, { timeoutMs: 20_000 })),
      );
      await sleep(20);
      await f.client.close();
      for (const err of await Promise.all(pending)) {
        expect(err.code).toBe('STORAGE_UNAVAILABLE');
        expect(err.details['reason']).toBe('closed');
      }
      expect(Date.now() - started).toBeLessThan(5_000);
      const after = await rejectionOf(f.client.request('conf.hang', {}));
      expect(after.details['reason']).toBe('closed');
      expect(() => f.client.publish('conf.hang', 'dropped')).not.toThrow();
      expect(() => f.client.subscribe('conf.x', () => undefined)).toThrow(OverseerError);
      expect(() => f.client.serve('conf.x', never)).toThrow(OverseerError);
      await f.client.close(); // twice is fine
    });
  });
}
