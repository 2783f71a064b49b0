import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';

let dir: TempDataDir | undefined;
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  dir?.remove();
});

/** Starts `overseer serve` as a newcomer would and waits for its URL (and the printed admin token, if any). */
async function startServer(
  dataDir: string,
  port = '0',
): Promise<{ proc: ChildProcess; url: string; output: string }> {
  const proc = spawn(process.execPath, ['bin/overseer.js', 'serve', '--port', port], {
    env: { ...process.env, OVERSEER_DATA_DIR: dataDir, OVERSEER_JWT_SECRET: '', OVERSEER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL in time: ${output}`)), 20_000);
    proc.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (m && output.includes('/docs')) {
        clearTimeout(timer);
        // Let a following token line arrive.
        setTimeout(() => resolve(m[1]!), 100);
      }
    });
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    proc.on('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });
  return { proc, url, output };
}

describe('a newcomer', () => {
  it('starts the server, makes a token with the CLI, walks the API, and finds every change after a SIGKILL', async () => {
    dir = tempDataDir();
    const first = await startServer(dir.path);
    child = first.proc;
    // First start: a secret is created (mode 0600) and an admin token and the docs URL are printed.
    expect(statSync(join(dir.path, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(first.output).toContain(`${first.url}/docs`);
    const adminToken = first.output.split('\n').find((l) => l.startsWith('eyJ'))!;
    expect(adminToken).toBeDefined();

    // The CLI mints a token while the server runs (it never opens the store).
    const minted = spawnSync(
      process.execPath,
      [
        'bin/overseer.js',
        'token',
        'create',
        '--workspace',
        'acme',
        '--scopes',
        'jobs:read,jobs:write,queue:work,supervisor:read,supervisor:write',
        '--ttl',
        '1h',
        '--sub',
        'newcomer',
      ],
      { env: { ...process.env, OVERSEER_DATA_DIR: dir.path, OVERSEER_JWT_SECRET: '' }, encoding: 'utf8' },
    );
    expect(minted.status).toBe(0);
    const token = minted.stdout.trim();
    const api = async (method: string, path: string, body?: unknown, url = first.url, bearer = token) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${bearer}`,
          ...(body !== undefined
            ? {
                'content-type': 'application/json',
                'idempotency-key': `${method}${path}${JSON.stringify(body)}`,
              }
            : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked by the assertions
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };

    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${first.url}/docs`)).status).toBe(200);
    expect((await api('GET', '/api/jobs')).body).toEqual({ jobs: [], nextCursor: null });
    const job = await api('POST', '/api/jobs', { title: 'Add login', priority: 'high' });
    expect(job.status).toBe(201);
    const task = await api('POST', '/api/v1/tasks', { title: 'Write docs', type: 'docs' });
    const worker = await api('POST', '/api/v1/workers', { name: 'claude-1', capabilities: ['typescript'] });
    expect(worker.status).toBe(201);
    // The worker acts with the credential its registration answered.
    const asWorker = (path: string, body: unknown) =>
      api('POST', path, body, first.url, worker.body.credential.token as string);
    const claim = await asWorker('/api/v1/queue/claim', { workerId: worker.body.id });
    expect(claim.body.job.id).toBe(job.body.id);
    const hb = await asWorker(`/api/v1/workers/${worker.body.id}/heartbeat`, {
      leaseToken: claim.body.lease.token,
    });
    expect(hb.body.directive).toBe('continue');
    const done = await asWorker('/api/v1/queue/complete', {
      jobId: job.body.id,
      leaseToken: claim.body.lease.token,
      result: { pr: 7 },
    });
    expect(done.body.job.status).toBe('COMPLETED');
    const other = await api('POST', '/api/v1/workers', { name: 'aider-1' });
    expect((await api('POST', `/api/supervisor/workers/${other.body.id}/pause`, {})).body.status).toBe(
      'PAUSED',
    );
    const events = await api('GET', '/api/v1/events?afterSeq=0&limit=500');
    const seqBefore = events.body.events.length;
    expect(seqBefore).toBeGreaterThan(5);
    // The admin token reaches the workspace with ?workspaceId=.
    const asAdmin = await fetch(`${first.url}/api/jobs?workspaceId=acme`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(((await asAdmin.json()) as { jobs: unknown[] }).jobs).toHaveLength(2);

    // Crash: SIGKILL, then start again on the same data dir.
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    expect(existsSync(join(dir.path, 'jwt-secret'))).toBe(true);
    const second = await startServer(dir.path);
    child = second.proc;
    expect(second.output.split('\n').some((l) => l.startsWith('eyJ'))).toBe(false); // the secret was kept
    // It says where the secret is and how to mint a token.
    expect(second.output).toContain(`JWT secret: ${join(dir.path, 'jwt-secret')}`);
    // The hint is a command that runs as printed (`overseer` alone is not on PATH after `npm install`).
    const hint = /A token: (npx overseer token create .*)$/m.exec(second.output)?.[1];
    expect(hint).toBeDefined();
    const hinted = execFileSync('sh', ['-c', hint!], { encoding: 'utf8' }).trim();
    expect(hinted).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    const get = (path: string) => api('GET', path, undefined, second.url);
    expect((await get(`/api/jobs/${job.body.id}`)).body).toMatchObject({
      status: 'COMPLETED',
      result: { pr: 7 },
    });
    expect((await get(`/api/v1/tasks/${task.body.id}`)).body.status).toBe('QUEUED');
    expect((await get(`/api/supervisor/workers/${other.body.id}`)).body.status).toBe('PAUSED');
    expect((await get(`/api/supervisor/workers/${worker.body.id}`)).body.status).toBe('IDLE');
    expect((await get('/api/v1/events?afterSeq=0&limit=500')).body.events).toHaveLength(seqBefore);
    // A retried POST with the same idempotency key answers the first answer.
    const again = await api('POST', '/api/jobs', { title: 'Add login', priority: 'high' }, second.url);
    expect(again.body.id).toBe(job.body.id);
  }, 60_000);

  it('whose first start fails (the port is taken) still gets the admin token on the next start', async () => {
    dir = tempDataDir();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = String((taken.address() as AddressInfo).port);
    try {
      await expect(startServer(dir.path, port)).rejects.toThrow(/EADDRINUSE|exited/);
    } finally {
      taken.close();
    }
    expect(existsSync(join(dir.path, 'jwt-secret'))).toBe(false);
    const next = await startServer(dir.path);
    child = next.proc;
    expect(next.output.split('\n').some((l) => l.startsWith('eyJ'))).toBe(true);
    expect(statSync(join(dir.path, 'jwt-secret')).mode & 0o777).toBe(0o600);
  }, 60_000);
});
