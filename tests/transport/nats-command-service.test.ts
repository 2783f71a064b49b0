import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OverseerError } from '../../src/core/errors.ts';
import { NatsBus } from '../../src/transport/nats-bus.ts';
import {
  pingService,
  startNatsCommandService,
  type CommandHandler,
  type NatsCommandService,
} from '../../src/transport/nats-command-service.ts';
import { startNatsServer, type NatsServer } from '../../src/testing.ts';

let ns: NatsServer;
let bus: NatsBus;
let nc: NatsConnection;
let service: NatsCommandService | undefined;

beforeAll(async () => {
  ns = await startNatsServer({ config: 'max_payload: 65536' });
  bus = await NatsBus.connect({ servers: ns.url });
  nc = await connect({ servers: ns.url });
});
afterEach(async () => {
  await service?.stop();
  service = undefined;
});
afterAll(async () => {
  await nc?.close();
  await bus?.close();
  await ns?.stop();
});

const start = (handle: CommandHandler, more: { maxInFlight?: number; stopGraceMs?: number } = {}) =>
  startNatsCommandService({
    bus,
    commands: [
      { name: 'echo.run', summary: 'Echo.' },
      { name: 'echo.other', summary: 'Other.' },
    ],
    handle,
    version: '1.2.3',
    ...more,
  }).then((s) => (service = s));

const request = async (subject: string, data: string, timeout = 5_000) => {
  const msg = await nc.request(subject, data, { timeout });
  return {
    body: msg.data.length ? msg.json<Record<string, unknown>>() : undefined,
    code: msg.headers?.get('Nats-Service-Error') || undefined,
    status: msg.headers?.get('Nats-Service-Error-Code') || undefined,
  };
};

describe('startNatsCommandService', () => {
  it('hands the handler the command, the subject workspace, the payload and lower-cased headers', async () => {
    const seen: unknown[] = [];
    await start((command, ws, payload, headers) => {
      seen.push({ command, ws, payload, auth: headers['authorization'] });
      return Promise.resolve(JSON.stringify({ ok: true }));
    });
    const { headers } = await import('@nats-io/transport-node');
    const h = headers();
    h.set('Authorization', 'Bearer t');
    const msg = await nc.request('overseer.cmd.acme.echo.run', '{"a":1}', { headers: h, timeout: 5_000 });
    expect(msg.json()).toEqual({ ok: true });
    expect(seen).toEqual([{ command: 'echo.run', ws: 'acme', payload: { a: 1 }, auth: 'Bearer t' }]);
  });

  it('answers INTERNAL for an unexpected throw, with no message of its own', async () => {
    await start(() => Promise.reject(new Error('secret detail')));
    const r = await request('overseer.cmd.acme.echo.run', '{}');
    expect(r).toMatchObject({ code: 'INTERNAL', status: '500' });
    expect(JSON.stringify(r.body)).not.toContain('secret detail');
  });

  it('refuses a payload that is not JSON and an answer above max_payload', async () => {
    await start(() => Promise.resolve(JSON.stringify({ big: 'x'.repeat(70_000) })));
    expect((await request('overseer.cmd.acme.echo.run', '{nope')).code).toBe('VALIDATION_FAILED');
    const r = await request('overseer.cmd.acme.echo.run', '{}');
    expect(r).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: '413' });
    expect(r.body).toMatchObject({ error: { details: { limit: 65536 } } });
  });

  it('answers RATE_LIMITED beyond maxInFlight, and stop() waits for running handlers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let finished = 0;
    await start(
      async () => {
        await gate;
        finished++;
        return JSON.stringify({ done: true });
      },
      { maxInFlight: 1 },
    );
    const first = request('overseer.cmd.acme.echo.run', '{}');
    await expect.poll(() => service!.inFlight).toBe(1);
    const second = await request('overseer.cmd.acme.echo.other', '{}');
    expect(second).toMatchObject({ code: 'RATE_LIMITED', status: '429' });
    const stopping = service!.stop();
    release();
    await stopping;
    expect(finished).toBe(1);
    expect((await first).body).toEqual({ done: true });
  });

  it('reports its own counts in $SRV.STATS and refuses a second instance', async () => {
    await start((command) =>
      command === 'echo.other' ? Promise.reject(new OverseerError('NOT_FOUND')) : Promise.resolve('{}'),
    );
    await request('overseer.cmd.a.echo.run', '{}');
    await request('overseer.cmd.a.echo.other', '{}');
    const stats = (await nc.request('$SRV.STATS.overseer', '', { timeout: 2_000 })).json<{
      version: string;
      endpoints: {
        name: string;
        num_requests: number;
        num_errors: number;
        last_error?: string;
        data: { requests: number; errors: number; last_error?: string };
      }[];
    }>();
    expect(stats.version).toBe('1.2.3');
    const by = Object.fromEntries(stats.endpoints.map((e) => [e.name, e.data]));
    expect(by['echo_run']).toMatchObject({ requests: 1, errors: 0 });
    expect(by['echo_other']).toMatchObject({ requests: 1, errors: 1, last_error: 'NOT_FOUND' });
    // The standard fields, which `nats micro stats` reads, say the same (an error answered in the envelope counts).
    const std = Object.fromEntries(stats.endpoints.map((e) => [e.name, e]));
    expect(std['echo_run']).toMatchObject({ num_requests: 1, num_errors: 0 });
    expect(std['echo_other']).toMatchObject({ num_requests: 1, num_errors: 1, last_error: 'NOT_FOUND' });
    expect(await pingService(bus)).toEqual([service!.id]);
    await expect(
      startNatsCommandService({ bus, commands: [], handle: () => Promise.resolve(''), version: '1.0.0' }),
    ).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
      details: { reason: 'service_running', instances: [service!.id] },
    });
  });

  it('ignores a publish without a reply subject', async () => {
    let calls = 0;
    await start(() => {
      calls++;
      return Promise.resolve('{}');
    });
    nc.publish('overseer.cmd.acme.echo.run', '{}');
    await nc.flush();
    await request('overseer.cmd.acme.echo.other', '{}');
    expect(calls).toBe(1);
  });
});
