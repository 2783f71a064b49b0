/**
 * Test kit of the NATS command API: a data node (`serve --nats`) on a temp dir against a nats-server of the
 * test's own, tokens signed with a fixed secret, and a plain nats.js client (no Overseer code) to call it.
 */
import {
  connect,
  headers as natsHeaders,
  PermissionViolationError,
  type Msg,
  type NatsConnection,
} from '@nats-io/transport-node';
import { expect } from 'vitest';
import { createToken } from '../../src/api/auth.ts';
import type { Scope } from '../../src/contracts/scopes.ts';
import { serve, type RunningServer } from '../../src/cli/serve.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';

export const TEST_SECRET_TEXT = 'overseer-nats-test-secret-of-at-least-32-bytes';
export const TEST_SECRET = new TextEncoder().encode(TEST_SECRET_TEXT);

/** A token of the test secret. */
export const tokenFor = (workspaceId: string, scopes: readonly Scope[], sub = 'tester'): Promise<string> =>
  createToken({ secret: TEST_SECRET }, { sub, workspaceId, scopes, ttlSeconds: 3600 });

export interface Node {
  server: RunningServer;
  dir: TempDataDir | undefined;
  close(): Promise<void>;
}

/** `overseer serve --nats <url>` (a data node) on a temp dir; HTTP on a random port. */
export async function startDataNode(natsUrl: string, flags: Record<string, unknown> = {}): Promise<Node> {
  const dir = tempDataDir('overseer-nats-');
  // The server reads its secret from the environment (never from a flag, which `ps` would show).
  process.env['OVERSEER_JWT_SECRET'] = TEST_SECRET_TEXT;
  const server = await serve(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir: dir.path,
      logLevel: 'silent',
      nats: natsUrl,
      ...flags,
    },
    () => undefined,
  );
  return {
    server,
    dir,
    async close() {
      await server.close();
      dir.remove();
    },
  };
}

/** `overseer serve --gateway --nats <url>`: HTTP on a random port, no state. */
export async function startGateway(natsUrl: string): Promise<Node> {
  const server = await serve(
    { host: '127.0.0.1', port: 0, logLevel: 'silent', nats: natsUrl, gateway: true },
    () => undefined,
  );
  return { server, dir: undefined, close: () => server.close() };
}

/** A reply decoded: its JSON and its service-error headers. */
export interface Reply {
  body: unknown;
  status: string | undefined;
  error: string | undefined;
}

export const decodeReply = (msg: Msg): Reply => ({
  body: msg.data.length === 0 ? undefined : msg.json(),
  status: msg.headers?.get('Nats-Service-Error-Code') || undefined,
  error: msg.headers?.get('Nats-Service-Error') || undefined,
});

/** One command with a plain client: JSON payload, `Authorization` and `Idempotency-Key` headers. */
export async function call(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  options: { token?: string; idempotencyKey?: string; timeoutMs?: number } = {},
): Promise<Reply> {
  const h = natsHeaders();
  if (options.token) h.set('Authorization', `Bearer ${options.token}`);
  if (options.idempotencyKey) h.set('Idempotency-Key', options.idempotencyKey);
  const msg = await nc.request(subject, JSON.stringify(payload), {
    headers: h,
    timeout: options.timeoutMs ?? 5_000,
  });
  return decodeReply(msg);
}

export const plainClient = (url: string, inboxPrefix?: string): Promise<NatsConnection> =>
  connect({ servers: url, ...(inboxPrefix ? { inboxPrefix } : {}) });

/** Plain nats.js clients of one nats-server that record the permission violations the server reports to them. */
export function permissionClients(url: () => string) {
  const violations = new Map<NatsConnection, PermissionViolationError[]>();
  return {
    violations,
    /** A client as `user` (with `inboxPrefix`, if given). */
    client: async (user: string, pass: string, inboxPrefix?: string): Promise<NatsConnection> => {
      const nc = await connect({ servers: url(), user, pass, ...(inboxPrefix ? { inboxPrefix } : {}) });
      const seen: PermissionViolationError[] = [];
      violations.set(nc, seen);
      void (async () => {
        for await (const s of nc.status())
          if (s.type === 'error' && s.error instanceof PermissionViolationError) seen.push(s.error);
      })();
      return nc;
    },
    /** Waits for the server to refuse `operation` on `subject` for this connection. */
    refused: async (
      nc: NatsConnection,
      operation: 'publish' | 'subscription',
      subject: string,
    ): Promise<void> => {
      await expect
        .poll(() => violations.get(nc)!.some((v) => v.operation === operation && v.subject === subject))
        .toBe(true);
    },
    /** Closes every client. */
    closeAll: async (): Promise<void> => {
      for (const nc of violations.keys()) await nc.close();
    },
  };
}
