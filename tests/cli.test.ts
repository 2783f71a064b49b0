import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { parseTtl } from '../src/cli/config.ts';
import { tokenCreate } from '../src/cli/token.ts';
import { ROLES } from '../src/contracts/scopes.ts';
import { createOverseer } from '../src/index.ts';
import { tempDataDir } from '../src/testing.ts';
import { rejection } from './support/open.ts';

describe('token lifetimes', () => {
  it('--ttl takes seconds, minutes, hours or days, and refuses zero or garbage', () => {
    expect(parseTtl('90')).toBe(90);
    expect(parseTtl('30m')).toBe(1_800);
    expect(parseTtl('7d')).toBe(604_800);
    for (const bad of ['0', '0h', '-1h', '1w', 'soon', ''])
      expect(() => parseTtl(bad), bad).toThrow(/Invalid --ttl/);
  });
});

describe('overseer token create --worker', () => {
  const SECRET = 'cli-worker-credential-secret-0123456789';

  it("mints the worker's own credential with the node's secret: it acts on that worker only", async () => {
    const dir = tempDataDir();
    const ov = await createOverseer({
      dataDir: dir.path,
      logLevel: 'silent',
      tokenSecret: new TextEncoder().encode(SECRET),
    });
    try {
      const ws = ov.workspace('acme');
      const mine = await ws.workers.register({ name: 'mine' });
      const theirs = await ws.workers.register({ name: 'theirs' });
      const minted = spawnSync(
        process.execPath,
        ['bin/overseer.js', 'token', 'create', '--workspace', 'acme', '--worker', mine.id, '--ttl', '2h'],
        { env: { ...process.env, OVERSEER_JWT_SECRET: SECRET }, encoding: 'utf8', timeout: 10_000 },
      );
      expect(minted.status, minted.stderr).toBe(0);
      const token = minted.stdout.trim();
      const claims = decodeJwt(token);
      expect(claims.exp! - claims.iat!).toBe(7_200);
      const principal = await ov.authenticate(token);
      expect(principal).toMatchObject({ sub: mine.id, workerId: mine.id, workspaceId: 'acme' });
      expect(principal.scopes).toEqual([...ROLES.agent]);
      const agent = ov.workspace('acme', { principal });
      expect((await agent.workers.heartbeat(mine.id)).directive).toBe('continue');
      expect((await rejection(agent.workers.heartbeat(theirs.id))).code).toBe('NOT_YOUR_WORKER');
      // Once the worker ends, the credential is revoked.
      await ws.workers.terminate(mine.id, { reason: 'done' });
      expect(await rejection(ov.authenticate(token))).toMatchObject({
        code: 'UNAUTHENTICATED',
        details: { reason: 'ERR_REVOKED' },
      });
    } finally {
      await ov.close();
      dir.remove();
    }
  });

  it('lives 1 h by default, at most 24 h, and refuses --role, --scopes and --sub beside --worker', async () => {
    const dir = tempDataDir();
    const before = process.env['OVERSEER_JWT_SECRET'];
    process.env['OVERSEER_JWT_SECRET'] = SECRET;
    try {
      const base = { workspace: 'acme', worker: 'wrk_01KAAAAAAAAAAAAAAAAAAAAAAA', dataDir: dir.path };
      const plain = decodeJwt(await tokenCreate(base));
      expect(plain.exp! - plain.iat!).toBe(3_600);
      expect(decodeJwt(await tokenCreate({ ...base, ttl: '24h' })).exp! - plain.iat!).toBe(86_400);
      const refused = async (flags: Record<string, unknown>) => (await rejection(tokenCreate(flags))).message;
      expect(await refused({ ...base, ttl: '25h' })).toMatch(/at most 24h/);
      expect(await refused({ ...base, role: 'agent' })).toMatch(/drop --role/);
      expect(await refused({ ...base, scopes: 'queue:work', sub: 'x' })).toMatch(/drop --scopes, --sub/);
      expect(await refused({ ...base, worker: 'wrk_a.>' })).toMatch(/Invalid --worker/);
      expect(await refused({ ...base, worker: true })).toMatch(/Invalid --worker/);
    } finally {
      if (before === undefined) delete process.env['OVERSEER_JWT_SECRET'];
      else process.env['OVERSEER_JWT_SECRET'] = before;
      dir.remove();
    }
  });
});

/** Starts the server with `command args` on a data dir and any free port; resolves once it logs that it is ready. */
async function startUntilReady(
  command: string,
  args: string[],
  dataDir: string,
): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(command, args, {
    env: { ...process.env, OVERSEER_DATA_DIR: dataDir, OVERSEER_PORT: '0', OVERSEER_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('overseer ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
  return { child, out };
}

describe('the overseer command', () => {
  it('start runs until SIGINT, then closes cleanly and releases the data dir', async () => {
    const dir = tempDataDir();
    try {
      const { child } = await startUntilReady(process.execPath, ['bin/overseer.js', 'start'], dir.path);
      expect(existsSync(join(dir.path, 'LOCK'))).toBe(true);
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code).toBe(0);
      expect(existsSync(join(dir.path, 'LOCK'))).toBe(false);
      const ov = await createOverseer({ dataDir: dir.path, logLevel: 'silent' });
      await ov.close();
    } finally {
      dir.remove();
    }
  });

  it('npm start stops when SIGTERM reaches npm alone (as a process manager sends it)', async () => {
    const dir = tempDataDir();
    try {
      const { child: npm, out } = await startUntilReady('npm', ['start', '--silent'], dir.path);
      const pid = Number(/"pid":(\d+)/.exec(out)![1]);
      expect(pid).not.toBe(npm.pid); // the server is a child of npm, not npm itself
      npm.kill('SIGTERM');
      await new Promise((r) => npm.once('exit', r));
      const alive = () => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive()).toBe(false); // before `exec` in the start script, the server outlived npm
      expect(existsSync(join(dir.path, 'LOCK'))).toBe(false);
    } finally {
      dir.remove();
    }
  }, 30_000);

  it('prints usage and refuses unknown commands', () => {
    const help = spawnSync(process.execPath, ['bin/overseer.js', 'help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: overseer');
    for (const args of [
      ['nats-config', '--help'],
      ['serve', '--help'],
      ['serve', '--help', 'x'],
      ['serve', '--help=1'],
      ['token', 'create', '-h'],
    ]) {
      const asked = spawnSync(process.execPath, ['bin/overseer.js', ...args], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(asked.status, args.join(' ')).toBe(0);
      expect(asked.stdout).toContain('Usage: overseer');
    }
    const bad = spawnSync(process.execPath, ['bin/overseer.js', 'frobnicate'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown command 'frobnicate'");
  });
});
