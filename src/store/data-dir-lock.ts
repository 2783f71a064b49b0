import { closeSync, openSync, readFileSync, rmSync, writeSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { OverseerError } from '../core/errors.ts';

/** Data dirs held by runtimes of this process (lmdb-js opens the same path twice without complaint). */
const heldInProcess = new Set<string>();

interface LockContent {
  pid: number;
  startedAt: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), where known. */
  procStart?: string;
}

/** State and start time of a process from /proc (Linux); null where /proc does not know it. */
function procStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', start: fields[19] ?? '' };
  } catch {
    return null;
  }
}

/** Whether the LOCK's holder still runs: not dead, not a zombie, and not another process that reused its pid. */
function holderAlive(holder: LockContent): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(holder.pid);
  if (!stat) return true;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return holder.procStart === undefined || holder.procStart === stat.start;
}

function readLock(path: string): LockContent | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid !== 'number') return null;
    return {
      pid: parsed.pid,
      startedAt: parsed.startedAt ?? 0,
      ...(parsed.procStart ? { procStart: parsed.procStart } : {}),
    };
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
 * process, answers `DATA_DIR_LOCKED`; a LOCK whose process is dead, a zombie, or whose pid now belongs to another
 * process (start times differ), or that is unreadable, is taken over at once.
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
      const procStart = procStat(process.pid)?.start;
      writeSync(
        fd,
        JSON.stringify({
          pid: process.pid,
          startedAt: now,
          ...(procStart ? { procStart } : {}),
        } satisfies LockContent),
      );
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
      if (holder && holder.pid !== process.pid && holderAlive(holder)) {
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
