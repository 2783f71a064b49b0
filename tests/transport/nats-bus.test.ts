import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OverseerError } from '../../src/core/errors.ts';
import { MAX_REQUEST_BYTES } from '../../src/transport/bus.ts';
import { NatsBus, type NatsBusOptions, type NatsBusStatus } from '../../src/transport/nats-bus.ts';
import { startNatsServer, type NatsServer } from '../../src/testing/nats-server.ts';
import { busConformance, rejectionOf, until } from './bus-conformance.ts';
import { respond } from './nats-responder.ts';

let ns: NatsServer;
beforeAll(async () => {
  ns = await startNatsServer();
});
afterAll(async () => {
  await ns?.stop();
});

const open = (options: Partial<NatsBusOptions> = {}, server: NatsServer = ns): Promise<NatsBus> =>
  NatsBus.connect({ servers: server.url, reconnectTimeWaitMs: 100, ...options });

busConformance('nats', async () => {
  // A short grace: some tests leave handlers that never answer.
  const client = await open({ name: 'conformance-client', closeGraceMs: 100 });
  const server = await open({ name: 'conformance-server', closeGraceMs: 100 });
  return {
    client,
    server,
    settle: async () => {
      await server.flush();
      await client.flush();
    },
    close: async () => {
      await Promise.all([client.close(), server.close()]);
    },
  };
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const never = (): Promise<never> => new Promise<never>(() => undefined);

describe('NatsBus requests, answered as a data node answers them', () => {
  let client: NatsBus;
  let server: NatsBus;
  beforeEach(async () => {
    // A short grace: some tests leave handlers that never answer.
    client = await open({ name: 'request-client', closeGraceMs: 100 });
    server = await open({ name: 'request-server', closeGraceMs: 100 });
  });
  afterEach(async () => {
    await Promise.all([client.close(), server.close()]);
  });
  const settle = async (): Promise<void> => {
    await server.flush();
    await client.flush();
  };

  it('answers a request with the reply of the server, as JSON', async () => {
    const seen: { payload: unknown; subject: string }[] = [];
    respond(server, 'conf.echo.*', (payload, _headers, subject) => {
      seen.push({ payload, subject });
      return Promise.resolve({ echo: payload, at: new Date(0) });
    });
    await settle();
    const reply = await client.request('conf.echo.one', { n: 1, when: new Date(0), gone: undefined });
    expect(reply).toEqual({
      echo: { n: 1, when: '1970-01-01T00:00:00.000Z' },
      at: '1970-01-01T00:00:00.000Z',
    });
    expect(seen).toEqual([{ payload: { n: 1, when: '1970-01-01T00:00:00.000Z' }, subject: 'conf.echo.one' }]);
  });

  it('carries `undefined` both ways', async () => {
    let got: unknown = 'unset';
    respond(server, 'conf.void', (payload) => {
      got = payload;
      return Promise.resolve(undefined);
    });
    await settle();
    await expect(client.request('conf.void', undefined)).resolves.toBeUndefined();
    expect(got).toBeUndefined();
  });

  it('sends the request headers, which the answering side reads with lower-cased names', async () => {
    let seen: Readonly<Record<string, string>> = {};
    respond(server, 'conf.headers', (_p, headers) => {
      seen = headers;
      return Promise.resolve('ok');
    });
    await settle();
    await client.request(
      'conf.headers',
      {},
      { headers: { Authorization: 'Bearer abc.def', 'Idempotency-Key': 'k-1' } },
    );
    expect(seen['authorization']).toBe('Bearer abc.def');
    expect(seen['idempotency-key']).toBe('k-1');
  });

  it('rejects with the OverseerError of an error envelope', async () => {
    respond(server, 'conf.fail', () =>
      Promise.reject(
        new OverseerError('INVALID_STATE_TRANSITION', 'Job is COMPLETED.', { state: 'COMPLETED' }),
      ),
    );
    await settle();
    const err = await rejectionOf(client.request('conf.fail', {}));
    expect(err.code).toBe('INVALID_STATE_TRANSITION');
    expect(err.status).toBe(409);
    expect(err.message).toBe('Job is COMPLETED.');
    expect(err.details).toEqual({ state: 'COMPLETED' });
  });

  it('rejects with INTERNAL, without the message, when the answering side failed otherwise', async () => {
    respond(server, 'conf.bug', () => Promise.reject(new TypeError('secret internals')));
    await settle();
    const err = await rejectionOf(client.request('conf.bug', {}));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).not.toContain('secret');
  });

  it('fails a request unanswered within timeoutMs, with reason timeout, about on time', async () => {
    respond(server, 'conf.slow', never);
    await settle();
    const started = Date.now();
    const err = await rejectionOf(client.request('conf.slow', {}, { timeoutMs: 200 }));
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1_000);
    expect(err.code).toBe('STORAGE_UNAVAILABLE');
    expect(err.details['reason']).toBe('timeout');
  });

  it('round-trips a 400 KiB payload and refuses one above 512 KiB before sending it', async () => {
    let calls = 0;
    respond(server, 'conf.big', (payload) => {
      calls++;
      return Promise.resolve(payload);
    });
    await settle();
    const big = { blob: 'x'.repeat(400 * 1024) };
    await expect(client.request('conf.big', big)).resolves.toEqual(big);
    expect(calls).toBe(1);
    const err = await rejectionOf(client.request('conf.big', { blob: 'x'.repeat(MAX_REQUEST_BYTES) }));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(calls).toBe(1);
  });

  it('rejects the requests in flight when closed', async () => {
    respond(server, 'conf.hang', never);
    await settle();
    const started = Date.now();
    const pending = [1, 2, 3].map((n) =>
      rejectionOf(client.request('conf.hang', { n }, { timeoutMs: 20_000 })),
    );
    await sleep(20);
    await client.close();
    for (const err of await Promise.all(pending)) {
      expect(err.code).toBe('STORAGE_UNAVAILABLE');
      expect(err.details['reason']).toBe('closed');
    }
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('NatsBus', () => {
  it('never lets a slow subscriber block others, publishing or serving; overflow counts drops', async () => {
    const sub = await open({ maxPendingMessages: 50 });
    const pub = await open();
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: number[] = [];
    const fast: number[] = [];
    sub.subscribe('nats.slow', async (p) => {
      slow.push(p as number);
      await gate;
    });
    sub.subscribe('nats.slow', (p) => void fast.push(p as number));
    respond(sub, 'nats.ping', () => Promise.resolve('pong'));
    await sub.flush();

    for (let i = 0; i < 200; i++) pub.publish('nats.slow', i);
    await until(() => fast.length === 200, 5_000, 'the fast subscriber');
    expect(fast).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await expect(pub.request('nats.ping', {})).resolves.toBe('pong');
    // The slow handler holds event 0; 50 wait in its buffer; the other 149 were dropped.
    expect(slow).toEqual([0]);
    expect(sub.droppedMessages).toBe(149);

    release();
    await until(() => slow.length === 51, 5_000, 'the slow subscriber to catch up');
    expect(slow).toEqual(Array.from({ length: 51 }, (_, i) => i));
    await Promise.all([sub.close(), pub.close()]);
  });

  it('honours the server max_payload for requests and publishes', async () => {
    const small = await startNatsServer({ config: 'max_payload: 65536' });
    const bus = await open({}, small);
    try {
      expect(bus.maxPayload).toBe(65_536);
      respond(bus, 'nats.size', () => Promise.resolve('ok'));
      await bus.flush();
      const request = await rejectionOf(bus.request('nats.size', { n: 0, pad: 'x'.repeat(100_000) }));
      expect(request.code).toBe('PAYLOAD_TOO_LARGE');
      await expect(bus.request('nats.size', { n: 0 })).resolves.toBe('ok');
      expect(bus.dropped).toBe(0);
      bus.publish('nats.size', 'z'.repeat(100_000));
      expect(bus.dropped).toBe(1);
    } finally {
      await bus.close();
      await small.stop();
    }
  });

  it('reconnects after a nats-server restart on the same port; no request is left hanging', async () => {
    const srv = await startNatsServer();
    const client = await open({ name: 'fault-client' }, srv);
    const server = await open({ name: 'fault-server' }, srv);
    const seen: Record<string, NatsBusStatus[]> = { client: [], server: [] };
    client.onStatus((s) => seen['client']?.push(s));
    server.onStatus((s) => seen['server']?.push(s));
    const reconnects = (who: string): number => seen[who]?.filter((s) => s.type === 'reconnect').length ?? 0;
    try {
      respond(server, 'nats.fault', (p) => Promise.resolve(p));
      await server.flush();
      await expect(client.request('nats.fault', 0)).resolves.toBe(0);
      const { port, pid } = srv;

      // Requests every 20 ms across the outage; each must settle with its answer or an explicit error.
      const outcomes: Promise<string>[] = [];
      let stop = false;
      let sentWhileDown = 0;
      const load = (async () => {
        for (let i = 1; !stop; i++) {
          if (!client.isConnected) sentWhileDown++;
          outcomes.push(
            client.request('nats.fault', i, { timeoutMs: 1_500 }).then(
              (r) => (r === i ? 'ok' : `wrong answer ${String(r)}`),
              (err: unknown) =>
                err instanceof OverseerError && err.code === 'STORAGE_UNAVAILABLE'
                  ? `failed:${String(err.details['reason'])}`
                  : `unexpected ${String(err)}`,
            ),
          );
          await sleep(20);
        }
      })();
      await sleep(100);
      await srv.restart({ downtimeMs: 400 });
      expect(srv.port).toBe(port);
      expect(srv.pid).not.toBe(pid);
      await until(() => reconnects('client') > 0 && reconnects('server') > 0, 10_000, 'both reconnects');
      stop = true;
      await load;
      const settled = await Promise.race([
        Promise.all(outcomes),
        sleep(5_000).then(() => 'some request hung' as const),
      ]);
      expect(settled).not.toBe('some request hung');
      const results = settled as string[];
      expect(results.filter((r) => r !== 'ok' && !r.startsWith('failed:'))).toEqual([]);
      // The fault happened: both ends saw the disconnect, and requests were made while it lasted.
      expect(seen['client']?.some((s) => s.type === 'disconnect')).toBe(true);
      expect(seen['server']?.some((s) => s.type === 'disconnect')).toBe(true);
      expect(sentWhileDown).toBeGreaterThan(5);
      expect(results.length).toBeGreaterThan(sentWhileDown);

      // Publishing while down was dropped and counted; after the restart everything works again.
      await server.flush();
      await expect(client.request('nats.fault', 'after')).resolves.toBe('after');
      const got: unknown[] = [];
      server.subscribe('nats.fault.evt', (p) => void got.push(p));
      await server.flush();
      client.publish('nats.fault.evt', 'hello');
      await until(() => got.length === 1, 5_000, 'an event after the restart');
    } finally {
      await Promise.all([client.close(), server.close()]);
      await srv.stop();
    }
  });

  it('drops and counts publishes while disconnected, and closes without hanging when the server is gone', async () => {
    const srv = await startNatsServer({ monitor: false });
    const bus = await open({ reconnectTimeWaitMs: 5_000 }, srv);
    const down = new Promise<void>((resolve) => bus.onStatus((s) => s.type === 'disconnect' && resolve()));
    await srv.stop();
    await down;
    expect(bus.isConnected).toBe(false);
    bus.publish('nats.gone', 1);
    bus.publish('nats.gone', 2);
    expect(bus.dropped).toBe(2);
    const started = Date.now();
    const waiting = rejectionOf(bus.request('nats.gone', {}, { timeoutMs: 10_000 }));
    await bus.close();
    expect((await waiting).details['reason']).toBe('closed');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('times out with reason disconnected when the connection stays down', async () => {
    const srv = await startNatsServer({ monitor: false });
    const bus = await open({ reconnectTimeWaitMs: 5_000 }, srv);
    const down = new Promise<void>((resolve) => bus.onStatus((s) => s.type === 'disconnect' && resolve()));
    await srv.stop();
    await down;
    const started = Date.now();
    const err = await rejectionOf(bus.request('nats.gone', {}, { timeoutMs: 200 }));
    expect(err.details['reason']).toBe('disconnected');
    expect(Date.now() - started).toBeLessThan(1_000);
    await bus.close();
  });

  it('fails to connect with STORAGE_UNAVAILABLE when the credentials are wrong', async () => {
    const srv = await startNatsServer({ config: 'authorization { token: "s3cret" }' });
    try {
      const good = await open({ connection: { token: 's3cret' } }, srv);
      await good.close();
      const err = await rejectionOf(open({ connection: { token: 'wrong' } }, srv));
      expect(err.code).toBe('STORAGE_UNAVAILABLE');
      expect(err.details['reason']).toBe('unreachable');
    } finally {
      await srv.stop();
    }
  });
});

describe('startNatsServer', () => {
  it('fails fast with the server stderr when the config is invalid', async () => {
    const started = Date.now();
    await expect(startNatsServer({ config: 'this is { not valid' })).rejects.toThrow(/exited early[\s\S]+/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('listens on a random port of 127.0.0.1, never 4222, with a monitoring endpoint', async () => {
    expect(ns.port).not.toBe(4222);
    expect(ns.url).toBe(`nats://127.0.0.1:${ns.port}`);
    const varz = (await (await fetch(`${ns.monitorUrl}/varz`)).json()) as { port: number; version: string };
    expect(varz.port).toBe(ns.port);
    expect(varz.version).toMatch(/^2\./);
  });
});
