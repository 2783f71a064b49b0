import { connect, headers } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OverseerError } from '../../src/core/errors.ts';
import { NatsBus, type NatsBusOptions, type NatsBusStatus } from '../../src/transport/nats-bus.ts';
import { startNatsServer, type NatsServer } from '../../src/testing/nats-server.ts';
import { busConformance, rejectionOf, until } from './bus-conformance.ts';

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
    sub.serve('nats.ping', () => Promise.resolve('pong'));
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

  it('puts the error envelope and Nats-Service-Error-Code on the wire for any NATS client', async () => {
    const bus = await open();
    bus.serve('nats.raw', (_p, h) =>
      h['authorization'] === 'Bearer t'
        ? Promise.resolve({ ok: true })
        : Promise.reject(new OverseerError('UNAUTHENTICATED')),
    );
    await bus.flush();
    const nc = await connect({ servers: ns.url });
    try {
      const denied = await nc.request('nats.raw', '{}', { timeout: 2_000 });
      expect(denied.headers?.get('Nats-Service-Error-Code')).toBe('401');
      expect(denied.json()).toEqual({
        error: { code: 'UNAUTHENTICATED', message: 'A valid bearer token is required.', details: {} },
      });
      const h = headers();
      h.set('Authorization', 'Bearer t');
      const ok = await nc.request('nats.raw', '{}', { timeout: 2_000, headers: h });
      expect(ok.headers?.get('Nats-Service-Error-Code') ?? '').toBe('');
      expect(ok.json()).toEqual({ ok: true });
      const notJson = await nc.request('nats.raw', 'not json', { timeout: 2_000 });
      expect(notJson.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    } finally {
      await nc.close();
      await bus.close();
    }
  });

  it('honours the server max_payload for requests and replies', async () => {
    const small = await startNatsServer({ config: 'max_payload: 65536' });
    const bus = await open({}, small);
    try {
      expect(bus.maxPayload).toBe(65_536);
      bus.serve('nats.size', (p) => Promise.resolve((p as { n: number }).n > 0 ? 'y'.repeat(100_000) : 'ok'));
      await bus.flush();
      const request = await rejectionOf(bus.request('nats.size', { n: 0, pad: 'x'.repeat(100_000) }));
      expect(request.code).toBe('PAYLOAD_TOO_LARGE');
      const reply = await rejectionOf(bus.request('nats.size', { n: 1 }));
      expect(reply.code).toBe('PAYLOAD_TOO_LARGE');
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
      server.serve('nats.fault', (p) => Promise.resolve(p));
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
