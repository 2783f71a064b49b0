// examples/03-http.sh runs as printed against a real server (DESIGN conventions: every example is run by a test).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/api/auth.ts';
import { serve, type RunningServer } from '../../src/cli/serve.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';

const run = promisify(execFile);
const SECRET = 'example-http-test-secret-0123456789abcdef';

describe('examples/03-http.sh', () => {
  let dir: TempDataDir;
  let server: RunningServer;
  const printed: string[] = [];
  const saved = process.env['OVERSEER_JWT_SECRET'];

  beforeAll(async () => {
    dir = tempDataDir();
    process.env['OVERSEER_JWT_SECRET'] = SECRET;
    server = await serve({ host: '127.0.0.1', port: 0, dataDir: dir.path, logLevel: 'silent' }, (line) =>
      printed.push(line),
    );
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env['OVERSEER_JWT_SECRET'];
    else process.env['OVERSEER_JWT_SECRET'] = saved;
    await server?.close();
    dir?.remove();
  });

  it('walks submit → register → claim → heartbeat → complete → events with the scopes it names', async () => {
    expect(printed[0]).toContain(server.url);
    const token = await createToken(
      { secret: new TextEncoder().encode(SECRET) },
      {
        sub: 'example',
        workspaceId: 'example',
        scopes: ['jobs:read', 'jobs:write', 'queue:work'],
        ttlSeconds: 600,
      },
    );
    const { stdout } = await run('bash', ['examples/03-http.sh'], {
      env: { ...process.env, BASE: server.url, TOKEN: token },
      encoding: 'utf8',
    });
    const lines = stdout.trim().split('\n');
    const jobLine = lines.find((l) => /^job job_\S+ QUEUED$/.test(l));
    expect(jobLine, stdout).toBeDefined();
    const jobId = jobLine!.split(' ')[1]!;
    expect(lines).toContain(`replayed ${jobId}`);
    expect(lines.some((l) => /^worker wrk_\S+ IDLE$/.test(l))).toBe(true);
    const workerId = lines.find((l) => /^worker wrk_\S+ IDLE$/.test(l))!.split(' ')[1]!;
    expect(lines).toContain(`acting as ${workerId}`);
    expect(lines).toContain(`claimed ${jobId} with lease fence 1`);
    expect(lines).toContain('directive continue');
    expect(lines).toContain(`job ${jobId} COMPLETED`);
    const events = lines.filter((l) => l.startsWith('#'));
    expect(events.map((l) => l.replace(/^#\d+ /, ''))).toEqual([
      `job ${jobId} ∅ → SUBMITTED (jobs.submit)`,
      `job ${jobId} SUBMITTED → QUEUED (ENQUEUE)`,
      `job ${jobId} QUEUED → RUNNING (CLAIM)`,
      `job ${jobId} RUNNING → COMPLETED (COMPLETE)`,
    ]);
    // Every answer is printed as it came.
    expect(lines.filter((l) => l.startsWith('{')).length).toBe(5);
  });

  it('stops at the first error with the envelope', async () => {
    const err = (await run('bash', ['examples/03-http.sh'], {
      env: { ...process.env, BASE: server.url, TOKEN: 'not-a-token' },
      encoding: 'utf8',
    }).catch((e: unknown) => e)) as { code: number; stdout: string; stderr: string };
    expect(err.code).not.toBe(0);
    expect(err.stderr).toMatch(/POST \/api\/jobs failed: \{"error":\{"code":"UNAUTHENTICATED"/);
    expect(err.stdout).not.toContain('== register a worker');
  });
});
