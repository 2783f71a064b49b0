/**
 * The machine's own speed, measured without Overseer, so that figures from different machines can be compared
 * (run.ts runs it before every invocation and prints it in the headline). The same 2-core VM kind has given
 * 1.3–3× different figures for the same commit from one session to the next; these readings say which kind of
 * machine a run had:
 *
 * - `cpuMs`: a fixed single-threaded JS workload of the shape of a command (allocate small objects, Map churn,
 *   JSON encode and decode), median of `CAL_ROUNDS` rounds.
 * - `lmdb1Ms` / `lmdb16Ms`: an lmdb-js transaction (the store's own settings: overlapping sync, no compression)
 *   of 1 put, and of 16 puts at random keys of a 50,000-key database (about the pages a W1 commit of 8 jobs
 *   dirties), each awaited until flushed to disk: p50 of `CAL_COMMITS` commits. This is what mode 'flush' pays
 *   per group commit.
 * - `fdatasyncMs`: a 4 KiB write at a random offset of a 4 MiB file followed by `fdatasync`, p50.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { mulberry32 } from '../tests/support/prng.ts';
import { percentile, report, round, size, tempDir } from './lib.ts';

const ROUNDS = size('CAL_ROUNDS', 5, 3);
const COMMITS = size('CAL_COMMITS', 300, 100);
const KEYS = 50_000;

/** One round of the CPU workload; answers ms. */
function cpuRound(): number {
  const t0 = performance.now();
  const map = new Map<string, { id: string; state: string; n: number; tags: string[] }>();
  let bytes = 0;
  for (let i = 0; i < 200_000; i++) {
    const id = `job_${i.toString(36)}`;
    const value = { id, state: i % 3 === 0 ? 'QUEUED' : 'RUNNING', n: i, tags: ['a', String(i & 7)] };
    map.set(id, value);
    if (i % 4 === 0) {
      const text = JSON.stringify(value);
      bytes += (JSON.parse(text) as { id: string }).id.length;
    }
    if (map.size > 20_000) map.delete(`job_${(i - 20_000).toString(36)}`);
  }
  if (bytes === 0) throw new Error('unreachable: keeps the work observable');
  return performance.now() - t0;
}

const p50 = (samples: number[]): number =>
  percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );

async function lmdbCommits(path: string): Promise<{ one: number; sixteen: number }> {
  const root = openLmdb({ path, compression: false });
  const db = root.openDB({ name: 'calibrate' });
  const value = { payload: 'x'.repeat(300) };
  for (let b = 0; b < KEYS / 1_000; b++)
    await root.transaction(() => {
      for (let i = 0; i < 1_000; i++) void db.put(b * 1_000 + i, value);
    });
  await root.flushed;
  const random = mulberry32(7);
  const timed = async (puts: number): Promise<number> => {
    const samples: number[] = [];
    for (let c = 0; c < COMMITS; c++) {
      const t0 = performance.now();
      await root.transaction(() => {
        for (let i = 0; i < puts; i++) void db.put(puts === 1 ? -1 : Math.floor(random() * KEYS), value);
      });
      await root.flushed;
      samples.push(performance.now() - t0);
    }
    return p50(samples);
  };
  const one = await timed(1);
  const sixteen = await timed(16);
  await root.close();
  return { one, sixteen };
}

function fdatasyncP50(path: string): number {
  const file = join(path, 'sync.bin');
  const fd = openSync(file, 'w+');
  try {
    const page = Buffer.alloc(4096, 7);
    for (let i = 0; i < 1024; i++) writeSync(fd, page, 0, page.length, i * 4096);
    fdatasyncSync(fd);
    const random = mulberry32(11);
    const samples: number[] = [];
    for (let c = 0; c < COMMITS; c++) {
      const t0 = performance.now();
      writeSync(fd, page, 0, page.length, Math.floor(random() * 1024) * 4096);
      fdatasyncSync(fd);
      samples.push(performance.now() - t0);
    }
    return p50(samples);
  } finally {
    closeSync(fd);
  }
}

const dir = tempDir('overseer-calibrate-');
try {
  cpuRound(); // warm-up (JIT)
  const cpu = Array.from({ length: ROUNDS }, cpuRound);
  const lmdb = await lmdbCommits(join(dir.path, 'lmdb'));
  report({
    cpuMs: round(p50(cpu), 1),
    cpuRoundsMs: cpu.map((ms) => round(ms, 1)),
    lmdb1Ms: round(lmdb.one),
    lmdb16Ms: round(lmdb.sixteen),
    fdatasyncMs: round(fdatasyncP50(dir.path)),
  });
} finally {
  dir.remove();
}
