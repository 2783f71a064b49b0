/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- the document is walked as untyped JSON */
/**
 * One definition per command (issue 13): a throwaway command defined in this file, added to the table, shows up
 * in every derived artefact (route, OpenAPI operation with its answer and error codes, Postman item, NATS
 * endpoint) and in the typed client; and dispatch checks every answer against the command's output schema.
 */
import { embeddedAdmin } from '../../src/contracts/scopes.ts';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { mutation, query } from '../../src/api/command.ts';
import { commands } from '../../src/api/commands.ts';
import { createDispatch } from '../../src/api/dispatch.ts';
import { body } from '../../src/api/route-input.ts';
import { typedCall } from '../../src/api/typed-call.ts';
import type { createWorkspaceClient } from '../../src/api/workspace-client.ts';
import type { HeartbeatAnswerSchema } from '../../src/contracts/answers.ts';
import type { HeartbeatAnswer as SdkHeartbeatAnswer } from '../../src/sdk/index.ts';
import { buildOpenApi } from '../../src/http/openapi.ts';
import { routesOf } from '../../src/http/routes.ts';
import { endpointsOf } from '../../src/transport/nats-command-service.ts';
import { buildPostman } from '../../scripts/gen.ts';
import { Authenticator } from '../../src/api/auth.ts';
import { localCaller } from '../../src/api/command-caller.ts';
import { createLogger } from '../../src/core/log.ts';
import { buildHttpServer } from '../../src/http/server.ts';
import { runtimeSampler } from '../../src/server/runtime-sampler.ts';
import { mint, TEST_SECRET } from '../http/support.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

const EchoAnswer = z
  .object({ text: z.string(), length: z.number().int() })
  .meta({ id: 'EchoAnswer', description: 'The text and its length.' });

const echo = mutation({
  name: 'test.echo',
  summary: 'Echo a text (a throwaway command of this test).',
  input: z.object({ text: z.string().min(1), shout: z.boolean().default(false) }),
  output: EchoAnswer,
  scopes: ['jobs:write'],
  errors: ['QUOTA_EXCEEDED'],
  example: { text: 'hello' },
  http: [{ method: 'POST', path: '/api/v1/echo', status: 201, tag: 'auth', input: body }],
  apply: (_tx, input) => {
    const text = input.shout ? input.text.toUpperCase() : input.text;
    return { text, length: text.length };
  },
});

/** Answers what its output schema does not allow: the answer check must catch it. */
const liar = query({
  name: 'test.liar',
  summary: 'Answers outside its own output schema.',
  input: z.object({}),
  output: EchoAnswer,
  scopes: [],
  run: () => Promise.resolve({ text: 'x', length: 'one' } as unknown as z.output<typeof EchoAnswer>),
});

const table = [...commands, echo, liar] as const;

type Json = Record<string, any>;

describe('a command defined once', () => {
  it('gets its HTTP route', () => {
    const route = routesOf(table).find((r) => r.command === 'test.echo');
    expect(route).toMatchObject({ method: 'POST', path: '/api/v1/echo', status: 201, tag: 'auth' });
    expect(routesOf(commands).some((r) => r.command === 'test.echo')).toBe(false);
  });

  it('gets its OpenAPI operation with its answer schema and error codes', () => {
    const doc: Json = buildOpenApi(table);
    const op = doc['paths']['/api/v1/echo']['post'];
    expect(op['x-command']).toBe('test.echo');
    expect(op['summary']).toBe('Echo a text (a throwaway command of this test).');
    expect(op['responses']['201']['content']['application/json']['schema']).toEqual({
      $ref: '#/components/schemas/EchoAnswer',
    });
    expect(doc['components']['schemas']['EchoAnswer']['required']).toEqual(['text', 'length']);
    expect(op['requestBody']['content']['application/json']['example']).toEqual({ text: 'hello' });
    const codes = Object.values(op['responses'] as Record<string, Json>)
      .map((r) => r['$ref'] as string | undefined)
      .filter((ref): ref is string => ref !== undefined)
      .flatMap((ref) => doc['components']['responses'][ref.split('/').pop()!]['x-error-codes'] as string[]);
    // Its own code, the mutation's and the POST's, and the common ones; none it did not name.
    expect(codes).toContain('QUOTA_EXCEEDED');
    expect(codes).toContain('IDEMPOTENCY_KEY_REUSED');
    expect(codes).toContain('PAYLOAD_TOO_LARGE');
    expect(codes).toContain('VALIDATION_FAILED');
    expect(codes).not.toContain('INVALID_STATE_TRANSITION');
    expect(codes).not.toContain('LEASE_LOST');
    // The runtime's document does not have it.
    const runtimeDoc: Json = buildOpenApi();
    expect(runtimeDoc['paths']['/api/v1/echo']).toBeUndefined();
  });

  it('gets its Postman item', () => {
    const postman: Json = buildPostman(buildOpenApi(table) as never);
    const folder = (postman['item'] as Json[]).find((f) => f['name'] === 'auth')!;
    const item = (folder['item'] as Json[]).find((i) => i['name'] === 'POST /api/v1/echo');
    expect(item?.['request']['method']).toBe('POST');
    expect(JSON.parse(item?.['request']['body']['raw'] as string)).toEqual({ text: 'hello' });
  });

  it('gets its NATS endpoint', () => {
    expect(endpointsOf(table).find((e) => e.command === 'test.echo')).toEqual({
      command: 'test.echo',
      name: 'test_echo',
      subject: 'overseer.cmd.*.test.echo',
      metadata: { command: 'test.echo', summary: 'Echo a text (a throwaway command of this test).' },
    });
  });

  it('types its client call from its schemas', () => {
    type Call = ReturnType<typeof typedCall<typeof table>>;
    type EchoCall = (
      name: 'test.echo',
      input: { text: string; shout?: boolean | undefined },
    ) => Promise<{ text: string; length: number }>;
    expectTypeOf<Call>().toExtend<EchoCall>();
    expectTypeOf<Parameters<Call>[0]>().toEqualTypeOf<(typeof table)[number]['name']>();
  });

  it('keeps the library client and the SDK on the contracts answer types', () => {
    type ClientHeartbeat = Awaited<
      ReturnType<ReturnType<typeof createWorkspaceClient>['workers']['heartbeat']>
    >;
    expectTypeOf<ClientHeartbeat>().toEqualTypeOf<z.output<typeof HeartbeatAnswerSchema>>();
    expectTypeOf<SdkHeartbeatAnswer>().toEqualTypeOf<z.output<typeof HeartbeatAnswerSchema>>();
  });
});

describe('dispatch over a table', () => {
  let t: TestOverseer;
  beforeEach(async () => {
    t = await openTestOverseer();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('runs the throwaway command through the typed call', async () => {
    const { host } = t.ov.runtime;
    const call = typedCall<typeof table>(
      createDispatch(host, { commands: table }),
      'acme',
      embeddedAdmin('acme'),
    );
    const answer = await call('test.echo', { text: 'hi', shout: true }, { idempotencyKey: 'echo-1' });
    expect(answer).toEqual({ text: 'HI', length: 2 });
    expect(
      await call('test.echo', { text: 'other' }, { idempotencyKey: 'echo-1' }).catch((e) => e),
    ).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    // Not in the runtime's own table.
    expect(
      await rejection(
        t.ov.runtime.dispatch('test.echo', 'acme', { text: 'hi' }, { principal: embeddedAdmin('acme') }),
      ),
    ).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('serves the throwaway command over HTTP from its route', async () => {
    const dispatch = createDispatch(t.ov.runtime.host, { commands: table });
    const app = buildHttpServer({
      caller: localCaller(dispatch, new Authenticator({ secret: TEST_SECRET })),
      logger: createLogger('silent'),
      rateLimit: { perSecond: 0, burst: 1 },
      ready: () => true,
      openapi: () => buildOpenApi(table),
      metrics: { sample: runtimeSampler(t.ov.runtime, undefined) },
      routes: routesOf(table),
    });
    try {
      const token = await mint({ ws: 'acme', scopes: ['jobs:write'] });
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/echo',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: { text: 'hey' },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ text: 'hey', length: 3 });
      const reader = await mint({ ws: 'acme', scopes: ['jobs:read'] });
      const refused = await app.inject({
        method: 'POST',
        url: '/api/v1/echo',
        headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
        payload: { text: 'hey' },
      });
      expect(refused.json()).toMatchObject({ error: { code: 'INSUFFICIENT_SCOPE' } });
    } finally {
      await app.close();
    }
  });

  it('checks every answer against its output schema under test, and not when told not to', async () => {
    const { host } = t.ov.runtime;
    const checking = createDispatch(host, { commands: table });
    const err = await rejection(checking('test.liar', 'acme', {}, { principal: embeddedAdmin('acme') }));
    expect(err.message).toBe(
      'test.liar answered outside its output schema: length: Invalid input: expected number, received string',
    );
    const production = createDispatch(host, { commands: table, checkAnswers: false });
    expect(await production('test.liar', 'acme', {}, { principal: embeddedAdmin('acme') })).toEqual({
      text: 'x',
      length: 'one',
    });
  });
});

describe('golden: the NATS endpoints of the runtime', () => {
  it('are one per command, with these names and subjects', () => {
    const endpoints = endpointsOf(commands)
      .map((e) => `${e.name} ${e.subject}`)
      .sort();
    expect(endpoints).toEqual(
      [
        'auth.whoami',
        'events.list',
        'jobs.cancel',
        'jobs.get',
        'jobs.list',
        'jobs.submit',
        'jobs.submitMany',
        'jobs.update',
        'queue.claim',
        'queue.complete',
        'queue.enqueue',
        'queue.fail',
        'queue.heartbeat',
        'queue.stats',
        'resources.allocate',
        'resources.quotas',
        'resources.release',
        'resources.usage',
        'sessions.close',
        'sessions.get',
        'sessions.idle',
        'sessions.open',
        'sessions.touch',
        'state.snapshot',
        'supervisor.metrics',
        'tokens.refresh',
        'workers.credential',
        'workers.deregister',
        'workers.get',
        'workers.heartbeat',
        'workers.list',
        'workers.pause',
        'workers.register',
        'workers.reportCrash',
        'workers.restart',
        'workers.resume',
        'workers.terminate',
        'workflow.contract',
        'workflow.evidence',
        'workflow.transition',
        'workflows.get',
        'workflows.list',
        'workflows.put',
        'workstreams.cancel',
        'workstreams.get',
        'workstreams.list',
        'workstreams.plan',
        'workstreams.start',
        'workstreams.submit',
      ].map((n) => `${n.replace('.', '_')} overseer.cmd.*.${n}`),
    );
  });
});
