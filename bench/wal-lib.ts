/** What bench/wal.ts takes from the shared bench helpers, plus the machine's bare fdatasync figure to compare with. */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { latency, round } from './lib.ts';

export { benchArgs, latency, report, round, size, tempDir } from './lib.ts';

/** p50 of a bare 4 KiB write + fdatasync appended to a growing (not preallocated) file in `dir`, 100 of them, in ms. */
export function fdatasyncFigures(dir: string): { p50Ms: number } {
  const path = join(dir, 'calibrate');
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(4096, 1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      writeSync(fd, page, 0, page.length, i * page.length);
      fdatasyncSync(fd);
      samples.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
  }
  return { p50Ms: round(latency(samples).p50) };
}
