import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTtl } from '../src/cli/config.ts';
import { createOverseer } from '../src/index.ts';
import { tempDataDir } from '../src/testing.ts';

describe('token lifetimes', () => {
  it('--ttl takes seconds, minutes, hours or days, and refuses zero or garbage', () => {
    expect(parseTtl('90')).toBe(90);
    expect(parseTtl('30m')).toBe(1_800);
    expect(parseTtl('7d')).toBe(604_800);
    for (const bad of ['0', '0h', '-1h', '1w', 'soon', ''])
      expect(() => parseTtl(bad), bad).toThrow(/Invalid --ttl/);
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
