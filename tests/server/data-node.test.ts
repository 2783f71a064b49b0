// A node started from code (`overseer/server`), over real HTTP and a real nats-server.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/api/auth.ts';
import { createOverseer } from '../../src/index.ts';
import { startDataNode, startGateway, type DataNode } from '../../src/server/index.ts';
import { startNatsServer, tempDataDir, type NatsServer } from '../../src/testing.ts';

const SECRET = 'overseer-server-test-secret-of-at-least-32-bytes';

/** The fields of an answer the tests read: a job's, or an error envelope's. */
interface Answer {
  id: string;
  title: string;
  status: string;
  error: { code: string };
}

/** One HTTP call with a bearer token; answers the status and the JSON body. */
async function call(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Answer }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Answer };
}

describe('startDataNode', () => {
  it('serves the HTTP API on a free port, mints an admin token on first start, and releases the data dir', async () => {
    const dir = tempDataDir('overseer-server-');
    let node: DataNode | undefined;
    try {
      node = await startDataNode({ dataDir: dir.path, port: 0, logLevel: 'silent' });
      expect(node.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(node.url).not.toBe('http://127.0.0.1:0');
      expect(node.bus).toBeUndefined();
      expect(node.jwtSecret).toEqual({ source: 'new', path: join(dir.path, 'jwt-secret') });
      expect(statSync(join(dir.path, 'jwt-secret')).mode & 0o777).toBe(0o600);
      const token = node.adminToken!;
      expect(token).toMatch(/^eyJ/);

      const health = await fetch(`${node.url}/healthz`);
      expect(health.status).toBe(200);
      const submitted = await call(node.url, token, 'POST', '/api/jobs', {
        title: 'Add login',
        priority: 'high',
      });
      expect(submitted.status).toBe(201);
      expect(submitted.body).toMatchObject({ title: 'Add login', status: 'QUEUED' });
      const got = await call(node.url, token, 'GET', `/api/jobs/${submitted.body.id}`);
      expect(got.body.id).toBe(submitted.body.id);
      // The same runtime answers library calls in the process.
      expect((await node.overseer.workspace('default').jobs.get(submitted.body.id)).title).toBe('Add login');

      // /metrics reads the runtime's sample: the queued job of workspace `default`.
      const metrics = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      const text = await metrics.text();
      expect(text).toContain('overseer_jobs{workspace="default",status="QUEUED"} 1');
      expect(text).toContain('overseer_queue_depth{workspace="default",priority="high"} 1');

      await node.close();
      node = undefined;
      expect(existsSync(join(dir.path, 'LOCK'))).toBe(false);
      const ov = await createOverseer({ dataDir: dir.path, logLevel: 'silent' });
      expect((await ov.workspace('default').jobs.get(submitted.body.id)).status).toBe('QUEUED');
      await ov.close();

      // The second start keeps the secret: no new token, and the first one still works.
      node = await startDataNode({ dataDir: dir.path, port: 0, logLevel: 'silent' });
      expect(node.jwtSecret.source).toBe('file');
      expect(node.adminToken).toBeUndefined();
      expect((await call(node.url, token, 'GET', `/api/jobs/${submitted.body.id}`)).status).toBe(200);
    } finally {
      await node?.close();
      dir.remove();
    }
  });

  it('uses a secret it is given and writes none', async () => {
    const dir = tempDataDir('overseer-server-');
    const node = await startDataNode({ dataDir: dir.path, port: 0, logLevel: 'silent', jwtSecret: SECRET });
    try {
      expect(node.jwtSecret.source).toBe('env');
      expect(node.adminToken).toBeUndefined();
      expect(existsSync(join(dir.path, 'jwt-secret'))).toBe(false);
      const token = await createToken(
        { secret: new TextEncoder().encode(SECRET) },
        { sub: 't', workspaceId: 'acme', scopes: ['admin'], ttlSeconds: 60 },
      );
      expect((await call(node.url, token, 'POST', '/api/jobs', { title: 'x' })).status).toBe(201);
      expect((await call(node.url, 'not-a-token', 'GET', '/api/jobs')).body.error.code).toBe(
        'UNAUTHENTICATED',
      );
    } finally {
      await node.close();
      dir.remove();
    }
  });

  it('refuses an invalid config with VALIDATION_FAILED before touching the data dir', async () => {
    const dir = tempDataDir('overseer-server-');
    try {
      await expect(
        startDataNode({ dataDir: dir.path, port: 70_000, logLevel: 'silent' }),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      expect(existsSync(join(dir.path, 'LOCK'))).toBe(false);
      expect(existsSync(join(dir.path, 'jwt-secret'))).toBe(false);
    } finally {
      dir.remove();
    }
  });
});

describe('startGateway', () => {
  let ns: NatsServer;
  beforeAll(async () => {
    ns = await startNatsServer();
  });
  afterAll(async () => {
    await ns?.stop();
  });

  it('forwards commands over NATS to a data node started from code', async () => {
    const dir = tempDataDir('overseer-server-');
    const node = await startDataNode({
      dataDir: dir.path,
      port: 0,
      logLevel: 'silent',
      jwtSecret: SECRET,
      nats: ns.url,
    });
    try {
      expect(node.bus?.isConnected).toBe(true);
      const gateway = await startGateway({ nats: ns.url, port: 0, logLevel: 'silent' });
      try {
        const token = await createToken(
          { secret: new TextEncoder().encode(SECRET) },
          { sub: 't', workspaceId: 'acme', scopes: ['jobs:read', 'jobs:write'], ttlSeconds: 60 },
        );
        const submitted = await call(gateway.url, token, 'POST', '/api/jobs', { title: 'Via the gateway' });
        expect(submitted.status).toBe(201);
        expect((await node.overseer.workspace('acme').jobs.get(submitted.body.id)).title).toBe(
          'Via the gateway',
        );
        // The gateway holds no state: the data node verifies the token.
        expect((await call(gateway.url, 'not-a-token', 'GET', '/api/jobs')).status).toBe(401);
      } finally {
        await gateway.close();
      }
    } finally {
      await node.close();
      dir.remove();
    }
  });

  it('refuses to start without a NATS server', async () => {
    await expect(startGateway({ nats: '', port: 0, logLevel: 'silent' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'A gateway needs a NATS server: --gateway --nats <url>.',
    });
  });
});
