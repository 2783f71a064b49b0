import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
