import { OverseerError } from '../core/errors.ts';
import type { EntityKind } from '../contracts/journal.ts';

/** Turns a persisted snapshot of version `from` into one of version `from + 1`. */
export type Migration = (snapshot: unknown) => unknown;

/** Registered migrations: kind → from-version → step. */
export type Migrations = Partial<Record<EntityKind, Record<number, Migration>>>;

/**
 * Brings a stored snapshot to the current machine version, step by step; a version with no registered path
 * fails with `SNAPSHOT_VERSION_UNSUPPORTED`, never silently.
 */
export function migrateSnapshot(
  kind: EntityKind,
  id: string,
  stored: { v: number; s: unknown },
  current: number,
  migrations: Migrations,
): unknown {
  let { v, s } = stored;
  while (v < current) {
    const step = migrations[kind]?.[v];
    if (!step) break;
    s = step(s);
    v++;
  }
  if (v !== current) {
    throw new OverseerError(
      'SNAPSHOT_VERSION_UNSUPPORTED',
      `The stored ${kind} ${id} has machine version ${stored.v}; this runtime runs ${current} and has no migration.`,
      {
        kind,
        id,
        storedVersion: stored.v,
        machineVersion: current,
      },
    );
  }
  return s;
}
