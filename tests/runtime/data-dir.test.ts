import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOverseer } from '../../src/index.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';
import { rejection } from '../support/open.ts';

const dirs: TempDataDir[] = [];
const fresh = () => {
  const d = tempDataDir();
  dirs.push(d);
  return d.path;
};
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

describe('the data-dir LOCK', () => {
  it('refuses a second runtime on the same dir in this process, and frees it on close', async () => {
    const dataDir = fresh();
    const first = await createOverseer({ dataDir, logLevel: 'silent' });
    const err = await rejection(createOverseer({ dataDir, logLevel: 'silent' }));
    expect(err.code).toBe('DATA_DIR_LOCKED');
    expect(err.message).toContain(dataDir);
    await first.close();
    const second = await createOverseer({ dataDir, logLevel: 'silent' });
    await second.close();
  });

  it('refuses a runtime of another live process', async () => {
    const dataDir = fresh();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('./src/index.ts').then(async (m) => { await m.createOverseer({ dataDir: ${JSON.stringify(dataDir)}, logLevel: 'silent' }); console.log('ready'); setInterval(() => {}, 1000); })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      const err = await rejection(createOverseer({ dataDir, logLevel: 'silent' }));
      expect(err.code).toBe('DATA_DIR_LOCKED');
      expect(err.details).toMatchObject({ pid: child.pid });
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // The killed process left its LOCK behind: a stale LOCK is taken over at once.
    const ov = await createOverseer({ dataDir, logLevel: 'silent' });
    await ov.close();
  });

  it('takes over a stale LOCK of a dead process at once', async () => {
    const dataDir = fresh();
    const ov0 = await createOverseer({ dataDir, logLevel: 'silent' });
    await ov0.close();
    writeFileSync(join(dataDir, 'LOCK'), JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: 1 }));
    const ov = await createOverseer({ dataDir, logLevel: 'silent' });
    await ov.close();
  });

  it('takes over the LOCK of a killed process that is not yet reaped (a zombie)', async () => {
    const dataDir = fresh();
    // The runtime runs as a child of `sleep` (via exec), which never reaps it: once killed it stays a zombie.
    const script = `import('./src/index.ts').then(async (m) => { await m.createOverseer({ dataDir: ${JSON.stringify(dataDir)}, logLevel: 'silent' }); console.log('ready'); setInterval(() => {}, 1000); })`;
    const shell = spawn(
      'sh',
      ['-c', `"${process.execPath}" --import tsx -e "$SCRIPT" & echo "pid $!"; exec sleep 60`],
      {
        env: { ...process.env, SCRIPT: script },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      let out = '';
      await new Promise<void>((resolve) =>
        shell.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready')) resolve();
        }),
      );
      const pid = Number(/pid (\d+)/.exec(out)![1]);
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++)
        await sleep(20);
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /);
      const ov = await createOverseer({ dataDir, logLevel: 'silent' });
      await ov.close();
    } finally {
      shell.kill('SIGKILL');
    }
  });

  it('takes over a LOCK whose pid was reused by another process', async () => {
    const dataDir = fresh();
    writeFileSync(join(dataDir, 'LOCK'), JSON.stringify({ pid: process.ppid, startedAt: 1, procStart: '1' }));
    const ov = await createOverseer({ dataDir, logLevel: 'silent' });
    await ov.close();
  });
});

describe('unsafe LMDB settings', () => {
  for (const option of ['noSync', 'noMetaSync', 'useWritemap'] as const) {
    it(`refuses ${option}`, async () => {
      const err = await rejection(
        createOverseer({ dataDir: fresh(), logLevel: 'silent', lmdb: { [option]: true } }),
      );
      expect(err.code).toBe('VALIDATION_FAILED');
      expect(err.message).toContain(option);
    });
  }

  it('refuses unknown durability modes', async () => {
    expect(
      (await rejection(createOverseer({ dataDir: fresh(), logLevel: 'silent', durability: 'none' as never })))
        .code,
    ).toBe('VALIDATION_FAILED');
  });
});
