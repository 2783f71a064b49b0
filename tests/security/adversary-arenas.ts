/**
 * Where the adversarial race runs: a fresh runtime with one workspace, reached through the library (the dispatch
 * `ov.workspace(ws, { principal })` calls, under the same scope and ownership rules) or over HTTP (Fastify's
 * `inject()` on the real routes). Every call answers an {@link Outcome}; an error's code is the one the caller
 * would see (the library's `OverseerError.code`, the HTTP envelope's `error.code`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createToken } from '../../src/api/auth.ts';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import type { Principal, Scope } from '../../src/contracts/scopes.ts';
import { routes, type Route } from '../../src/http/routes.ts';
import { createOverseer } from '../../src/index.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';
import { call, startServer, TEST_SECRET } from '../http/support.ts';

/** What one call answered. */
export type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

/** A token and the principal it authenticates as. */
export interface Identity {
  token: string;
  principal: Principal;
}

/** A runtime with one workspace, and a way to call its commands as someone. */
export interface Arena {
  readonly transport: 'library' | 'http';
  readonly ws: string;
  /** The workspace's embedded admin (setup and checks; never an agent). */
  readonly admin: WorkspaceClient;
  /** Whether `command` can be sent over this transport (HTTP has no route for some). */
  supports(command: string): boolean;
  call(
    as: Identity,
    command: string,
    input: Record<string, unknown>,
    idempotencyKey?: string,
  ): Promise<Outcome>;
  /** An unbound API token of this workspace. */
  token(sub: string, scopes: readonly Scope[]): Promise<Identity>;
  /** The identity of a worker credential the runtime minted. */
  identity(token: string): Promise<Identity>;
  close(): Promise<void>;
}

const WS = 'adversary';

/** A temp data dir in memory (/dev/shm) where there is one: the race is about rules, not disks. */
function dataDir(): TempDataDir {
  if (!existsSync('/dev/shm')) return tempDataDir('overseer-adversary-');
  const path = mkdtempSync(join('/dev/shm', 'overseer-adversary-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const failure = (err: unknown): Outcome => {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') throw err;
  return { ok: false, code };
};

/** The runtime embedded: every call goes through its dispatch under the caller's principal. */
export async function libraryArena(): Promise<Arena> {
  const dir = dataDir();
  const ov = await createOverseer({ dataDir: dir.path, tokenSecret: TEST_SECRET, logLevel: 'silent' });
  const identity = async (token: string): Promise<Identity> => ({
    token,
    principal: await ov.authenticate(token),
  });
  return {
    transport: 'library',
    ws: WS,
    admin: ov.workspace(WS),
    supports: () => true,
    async call(as, command, input, idempotencyKey) {
      try {
        const value = await ov.runtime.dispatch(command, WS, input, {
          principal: as.principal,
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        });
        return { ok: true, value };
      } catch (err) {
        return failure(err);
      }
    },
    token: async (sub, scopes) =>
      identity(
        await createToken({ secret: TEST_SECRET }, { sub, workspaceId: WS, scopes, ttlSeconds: 3600 }),
      ),
    identity,
    async close() {
      await ov.close();
      dir.remove();
    },
  };
}

/**
 * The route a command is sent on: its `/api/v1` one where it has several, taking the command's own field names (not
 * a seed alias such as `POST /api/v1/tasks/claim` `{ agentId }`, whose route declares its own `body`).
 */
function routeOf(command: string): Route | undefined {
  const all = routes.filter((r) => r.command === command && r.body === undefined);
  return all.find((r) => r.path.startsWith('/api/v1/')) ?? all[0];
}

/** The input field a route reads from its path's `:id`, if any. */
function idField(route: Route): string | undefined {
  const probe = '__adversary_probe__';
  const input = route.input({ params: { id: probe }, query: {}, body: {} }) as Record<string, unknown>;
  return Object.keys(input).find((k) => input[k] === probe);
}

/** The runtime behind its HTTP server: every call is one request with the caller's bearer token. */
export async function httpArena(): Promise<Arena> {
  const server = await startServer();
  const identity = async (token: string): Promise<Identity> => ({
    token,
    principal: await server.t.ov.authenticate(token),
  });
  return {
    transport: 'http',
    ws: WS,
    admin: server.t.ov.workspace(WS),
    supports: (command) => routeOf(command) !== undefined,
    async call(as, command, input, idempotencyKey) {
      const route = routeOf(command);
      if (!route) throw new Error(`no HTTP route for ${command}`);
      const field = idField(route);
      const rest = { ...input };
      if (field !== undefined) delete rest[field];
      const path = route.path.replace(':id', encodeURIComponent(String(input[field ?? ''])));
      const query = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, String(v)]));
      const res = await call(server.app, {
        method: route.method,
        url: path,
        token: as.token,
        ...(route.method === 'GET' ? { query } : route.method === 'DELETE' ? {} : { body: rest }),
        ...(idempotencyKey !== undefined ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
      });
      if (res.status >= 200 && res.status < 300) return { ok: true, value: res.json as unknown };
      const code = (res.json as { error?: { code?: unknown } } | undefined)?.error?.code;
      return { ok: false, code: typeof code === 'string' ? code : `HTTP ${res.status}` };
    },
    token: async (sub, scopes) =>
      identity(
        await createToken({ secret: TEST_SECRET }, { sub, workspaceId: WS, scopes, ttlSeconds: 3600 }),
      ),
    identity,
    close: () => server.close(),
  };
}
