/**
 * The three ways the identity matrix calls a command: HTTP (Fastify's `inject` on the real server), NATS (a plain
 * nats.js client against a data node on a nats-server of the test's own) and the library (`ov.workspace` under
 * the principal `ov.authenticate` gives for the token). Each answers the same {@link Result}.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { AnyCommandDef } from '../../src/api/command.ts';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import type { Scope } from '../../src/contracts/scopes.ts';
import type { HttpRoute } from '../../src/api/route-input.ts';
import type { Overseer } from '../../src/index.ts';
import { startDataNode, type DataNode } from '../../src/server/index.ts';
import { startNatsServer, tempDataDir, type NatsServer } from '../../src/testing.ts';
import { call as httpCall, mint, startServer, type TestServer } from '../http/support.ts';
import { call as natsCall, plainClient, TEST_SECRET_TEXT, tokenFor } from '../nats/support.ts';
import type { CommandFixture } from './identity-fixtures.ts';

/** What a call answered: success with its answer, or a refusal with its status and error code. */
export type Result = { ok: true; answer: unknown } | { ok: false; status: number; code: string };

/** One way to reach a command: an HTTP route, or the command itself over NATS and the library. */
export interface Channel {
  command: AnyCommandDef;
  /** `POST /api/v1/queue/claim`, or the command's name. */
  label: string;
  /** Runs the command with `input` as the holder of `token`, in `ws` (the token's own workspace). */
  call(input: Record<string, unknown>, token: string, ws: string): Promise<Result>;
}

/** A transport of the matrix, with the runtime behind it. */
export interface Transport {
  name: 'http' | 'nats' | 'library';
  /** The runtime serving it (for fixtures and state checks with a library client). */
  ov: Overseer;
  /** An API token of this transport's secret. */
  token(ws: string, scopes: readonly Scope[], sub: string): Promise<string>;
  /** The channels of the given commands that this transport carries. */
  channels(list: readonly AnyCommandDef[], fixtures: Record<string, CommandFixture>): Channel[];
  close(): Promise<void>;
}

/** Heartbeat deadlines far past the test, so no worker goes OFFLINE while the matrix checks states. */
const RUNTIME = { heartbeatTimeoutSeconds: 3600 } as const;

const PROBE = '__matrix_probe__';

/** The request of an HTTP route for a command input: the path's `:id` from the field the route fills with it. */
function requestOf(route: HttpRoute, input: Record<string, unknown>) {
  const probe = (req: { body?: unknown; query?: Record<string, unknown> }) =>
    route.input({ params: { id: PROBE }, query: req.query ?? {}, body: req.body ?? {} }) as Record<
      string,
      unknown
    >;
  const idField = Object.entries(probe({})).find(([, v]) => v === PROBE)?.[0];
  const rest = Object.fromEntries(Object.entries(input).filter(([k]) => k !== idField));
  const url =
    idField === undefined
      ? route.path
      : route.path.replace(':id', encodeURIComponent(String(input[idField])));
  const takesBody = probe({ body: { [PROBE]: 1 } })[PROBE] === 1;
  const takesQuery = probe({ query: { [PROBE]: 1 } })[PROBE] === 1;
  if (!takesBody && !takesQuery && Object.keys(rest).length > 0)
    throw new Error(`${route.method} ${route.path} cannot carry ${Object.keys(rest).join(', ')}`);
  return {
    method: route.method,
    url,
    ...(takesBody ? { body: rest } : {}),
    ...(takesQuery
      ? { query: Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, String(v)])) }
      : {}),
  };
}

/** HTTP: every route of each command, through `inject` on the server `startServer` builds. */
export async function httpTransport(): Promise<Transport> {
  const server: TestServer = await startServer({ overseer: RUNTIME });
  return {
    name: 'http',
    ov: server.t.ov,
    token: (ws, scopes, sub) => mint({ ws, scopes, sub }),
    channels: (list) =>
      list.flatMap((command) =>
        command.http.map((route): Channel => ({
          command,
          label: `${route.method} ${route.path}`,
          async call(input, token) {
            // The seed's claim route names the worker `agentId`.
            const sent =
              route.path === '/api/v1/tasks/claim'
                ? (({ workerId, ...rest }) => ({ ...rest, agentId: workerId }))(input)
                : input;
            const res = await httpCall(server.app, { ...requestOf(route, sent), token });
            const expected = route.status ?? 200;
            if (res.status === expected) return { ok: true, answer: res.json };
            return { ok: false, status: res.status, code: String(res.json?.error?.code ?? res.text) };
          },
        })),
      ),
    close: () => server.close(),
  };
}

/** NATS: `overseer.cmd.<ws>.<command>` with the token in `authorization`, answered by a data node. */
export async function natsTransport(): Promise<Transport> {
  const ns: NatsServer = await startNatsServer();
  const dir = tempDataDir('overseer-matrix-');
  let node: DataNode | undefined;
  let nc: NatsConnection | undefined;
  try {
    node = await startDataNode({
      ...RUNTIME,
      dataDir: dir.path,
      port: 0,
      logLevel: 'silent',
      nats: ns.url,
      jwtSecret: TEST_SECRET_TEXT,
    });
    nc = await plainClient(ns.url);
  } catch (err) {
    await node?.close();
    await ns.stop();
    dir.remove();
    throw err;
  }
  const connection = nc;
  const running = node;
  return {
    name: 'nats',
    ov: running.overseer,
    token: (ws, scopes, sub) => tokenFor(ws, scopes, sub),
    channels: (list) =>
      list.map((command): Channel => ({
        command,
        label: command.name,
        async call(input, token, ws) {
          const reply = await natsCall(connection, `overseer.cmd.${ws}.${command.name}`, input, { token });
          if (reply.status === undefined) return { ok: true, answer: reply.body };
          return { ok: false, status: Number(reply.status), code: String(reply.error) };
        },
      })),
    async close() {
      await connection.close();
      await running.close();
      await ns.stop();
      dir.remove();
    },
  };
}

/**
 * The library: `ov.workspace(ws, { principal })` with the principal of the token (`ov.authenticate`, which is
 * where a revoked credential is refused), calling each command through the client's own method.
 */
export async function libraryTransport(): Promise<Transport> {
  const server = await startServer({ overseer: RUNTIME });
  const ov = server.t.ov;
  return {
    name: 'library',
    ov,
    token: (ws, scopes, sub) => mint({ ws, scopes, sub }),
    channels: (list, fixtures) =>
      list.map((command): Channel => ({
        command,
        label: command.name,
        async call(input, token, ws) {
          try {
            const client: WorkspaceClient = ov.workspace(ws, { principal: await ov.authenticate(token) });
            return { ok: true, answer: await fixtures[command.name]!.library(client, input) };
          } catch (err) {
            const e = err as { status?: number; code?: string };
            if (e.status === undefined || e.code === undefined) throw err;
            return { ok: false, status: e.status, code: e.code };
          }
        },
      })),
    close: () => server.close(),
  };
}
