import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { createOverseer } from '../../src/index.ts';
import { LmdbStore } from '../../src/store/lmdb-store.ts';
import { DB_NAMES } from '../../src/store/store.ts';
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

describe('data dirs written before msgpack structures were shared', () => {
  const STRUCTURES = Symbol.for('structures');

  /** Rewrites every entry of `from` into a new data dir the way earlier versions stored them (inline records). */
  async function rewriteWithoutStructures(from: string): Promise<string> {
    const to = fresh();
    const source = LmdbStore.open({ dataDir: from, durability: 'flush', now: Date.now() });
    const root = open({ path: to, maxDbs: 16, compression: false });
    try {
      for (const name of DB_NAMES) {
        const db = root.openDB({ name });
        await root.transaction(() => {
          for (const { key, value } of source.range(name, {})) void db.put(key as (string | number)[], value);
        });
        expect(db.get(STRUCTURES as never)).toBeUndefined();
      }
    } finally {
      await root.close();
      await source.close();
    }
    return to;
  }

  it('opens them, reads every entity and writes new ones that survive a restart', async () => {
    const first = fresh();
    const before = await createOverseer({ dataDir: first, logLevel: 'silent' });
    const a = before.workspace('acme');
    const queued = await a.jobs.submit({ title: 'queued', priority: 'high', capabilities: ['ts'] });
    const held = await a.jobs.submit({ title: 'held', hold: true, metadata: { k: [1, 'x'] } });
    const worker = await a.workers.register({ name: 'w', capabilities: ['ts'] });
    const running = await a.jobs.submit({ title: 'running', capabilities: ['ts'] });
    await a.jobs.submit({ title: 'second in line', capabilities: ['ts'] });
    const claim = await a.queue.claim({ workerId: worker.id });
    expect(claim.job?.id).toBe(queued.id);
    const views = await Promise.all([queued, held, running].map((j) => a.jobs.get(j.id)));
    const workerView = await a.workers.get(worker.id);
    const events = await a.events.list({ limit: 500 });
    await before.close();

    const dataDir = await rewriteWithoutStructures(first);
    const ov = await createOverseer({ dataDir, logLevel: 'silent' });
    const ws = ov.workspace('acme');
    expect(await Promise.all([queued, held, running].map((j) => ws.jobs.get(j.id)))).toEqual(views);
    expect(await ws.workers.get(worker.id)).toEqual(workerView);
    expect((await ws.jobs.list()).jobs.map((j) => j.id)).toHaveLength(4);
    expect(await ws.events.list({ limit: 500 })).toEqual(events);
    // The old queue entries and the old lease still work, next to values written with shared structures.
    await ws.queue.complete({ jobId: queued.id, leaseToken: claim.lease!.token });
    const next = await ws.queue.claim({ workerId: worker.id });
    expect(next.job?.id).toBe(running.id);
    const added = await ws.jobs.submit({ title: 'new', metadata: { nested: { deep: true } } });
    const after = await Promise.all([queued, held, running, added].map((j) => ws.jobs.get(j.id)));
    expect(after.map((j) => j.status)).toEqual(['COMPLETED', 'SUBMITTED', 'RUNNING', 'QUEUED']);
    await ov.close();

    const again = await createOverseer({ dataDir, logLevel: 'silent' });
    const w2 = again.workspace('acme');
    expect(await Promise.all([queued, held, running, added].map((j) => w2.jobs.get(j.id)))).toEqual(after);
    expect((await w2.events.list({ limit: 500 })).events.length).toBeGreaterThan(events.events.length);
    await again.close();
  });
});
