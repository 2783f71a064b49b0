import { closeSync, openSync, readFileSync, rmSync, writeSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { OverseerError } from '../core/errors.ts';

/** Data dirs held by runtimes of this process (lmdb-js opens the same path twice without complaint). */
const heldInProcess = new Set<string>();

interface LockContent {
  pid: number;
  startedAt: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockContent | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, startedAt: parsed.startedAt ?? 0 } : null;
  } catch {
    return null;
  }
}

/** The LOCK of one data dir, held by this runtime until `release()`. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes `<dataDir>/LOCK` with O_EXCL (pid + start time). A LOCK of a live process, or of another runtime in this
 * process, answers `DATA_DIR_LOCKED`; a LOCK whose process is dead (or unreadable) is taken over at once.
 */
export function acquireDataDirLock(dataDir: string, now: number): DataDirLock {
  const dir = resolve(dataDir);
  const path = join(dir, 'LOCK');
  if (heldInProcess.has(dir)) {
    throw new OverseerError('DATA_DIR_LOCKED', `Another runtime in this process holds ${dir}.`, {
      dataDir: dir,
      pid: process.pid,
    });
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: now } satisfies LockContent));
      closeSync(fd);
      heldInProcess.add(dir);
      return {
        path,
        release() {
          heldInProcess.delete(dir);
          const current = readLock(path);
          if (current?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readLock(path);
      // Our own pid without an in-process holder is a LOCK left by a runtime of this process that did not close.
      if (holder && holder.pid !== process.pid && isAlive(holder.pid)) {
        throw new OverseerError(
          'DATA_DIR_LOCKED',
          `Process ${holder.pid} holds ${dir}; stop it or use another dataDir.`,
          {
            dataDir: dir,
            pid: holder.pid,
            startedAt: holder.startedAt,
          },
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new OverseerError('DATA_DIR_LOCKED', `Could not take the LOCK of ${dir}.`, { dataDir: dir });
}
