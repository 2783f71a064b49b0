import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOverseer } from '../src/index.ts';
import { tempDataDir } from '../src/testing.ts';

describe('the overseer command', () => {
  it('start runs until SIGINT, then closes cleanly and releases the data dir', async () => {
    const dir = tempDataDir();
    try {
      const child = spawn(process.execPath, ['bin/overseer.js', 'start'], {
        env: { ...process.env, OVERSEER_DATA_DIR: dir.path, OVERSEER_PORT: '0' },
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

  it('prints usage and refuses unknown commands', () => {
    const help = spawnSync(process.execPath, ['bin/overseer.js', 'help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: overseer');
    const bad = spawnSync(process.execPath, ['bin/overseer.js', 'frobnicate'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown command 'frobnicate'");
  });
});
