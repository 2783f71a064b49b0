import { writeSync } from 'node:fs';

/** The named steps of the WAL at which a crash test may have the process SIGKILL itself. */
export const WalCrashStep = {
  /** Before a group's write() is issued. */
  WRITE: 'wal-write',
  /** Half of a group's bytes written (synchronously), then the kill: a torn write. */
  WRITE_TORN: 'wal-write-torn',
  /** After the write, before the fdatasync. */
  WRITTEN: 'wal-written',
  /** After the fdatasync, before the acknowledgement. */
  SYNCED: 'wal-synced',
  /** Recycling: the control file names the new anchor; the old segment is not renamed yet. */
  RECYCLE: 'wal-recycle',
  /** Recycling: the old segment renamed, the directory not synced yet. */
  RECYCLED: 'wal-recycled',
} as const;
export type WalCrashStep = (typeof WalCrashStep)[keyof typeof WalCrashStep];

/**
 * Parses `OVERSEER_CRASH_AT=<step>[@<n>]`: kill at the n-th time (default 1) the step is reached. Anything else
 * (unset, another component's step) arms nothing here.
 */
export function parseCrashAt(value: string | undefined): { step: WalCrashStep; n: number } | null {
  if (!value) return null;
  const [step, n] = value.split('@');
  if (!Object.values(WalCrashStep).includes(step as WalCrashStep)) return null;
  const count = n === undefined ? 1 : Number(n);
  if (!Number.isInteger(count) || count < 1) return null;
  return { step: step as WalCrashStep, n: count };
}

/** Counts the steps reached and kills the process (SIGKILL, no cleanup at all) at the armed one. */
export class CrashPoints {
  private readonly armed: { step: WalCrashStep; n: number } | null;
  private seen = 0;

  constructor(spec: string | undefined) {
    this.armed = parseCrashAt(spec);
  }

  /** Whether `step` is the one that kills at its next arrival (for a torn write, which must write first). */
  due(step: WalCrashStep): boolean {
    return this.armed?.step === step && this.seen + 1 === this.armed.n;
  }

  /** Marks `step` reached; SIGKILLs the process if it is the armed one. */
  reach(step: WalCrashStep): void {
    if (this.armed?.step !== step) return;
    this.seen += 1;
    if (this.seen === this.armed.n) {
      writeSync(2, `overseer: crash point ${step}@${this.seen}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  }
}
