import type { Migrations } from './migrations.ts';
import { leaseDigest } from './work/lease-secret.ts';

type Snapshot = { context: Record<string, unknown> } & Record<string, unknown>;

/** The digest of a version-1 lease token (its fence number, then also its secret), or null. */
const digestOf = (token: unknown): string | null => (typeof token === 'string' ? leaseDigest(token) : null);

/**
 * Version 1 → 2 of jobs and workers (agent identity): the lease token, a fencing number, becomes `leaseFence`,
 * and what was its secret is kept only as a digest, so a lease held across the upgrade keeps working until it
 * ends. Workers registered before carry no `registeredBy`: only admins, supervisors and their own credential act
 * on them. Version 2 → 3 of jobs (workflows): a job made before follows no workflow (`workflow: null`).
 */
export const builtinMigrations: Migrations = {
  job: {
    1: (stored) => {
      const s = stored as Snapshot;
      const { leaseToken, ...context } = s.context;
      return {
        ...s,
        context: { ...context, leaseFence: leaseToken ?? null, leaseDigest: digestOf(leaseToken) },
      };
    },
    2: (stored) => {
      const s = stored as Snapshot;
      return { ...s, context: { ...s.context, workflow: null } };
    },
  },
  worker: {
    1: (stored) => {
      const s = stored as Snapshot;
      const { leaseToken, revokedLeaseToken, ...context } = s.context;
      return {
        ...s,
        context: {
          ...context,
          registeredBy: null,
          leaseFence: leaseToken ?? null,
          leaseDigest: digestOf(leaseToken),
          revokedLeaseDigest: digestOf(revokedLeaseToken),
        },
      };
    },
  },
};

/** The built-in migrations with the user's added (a user's step for the same kind and version wins). */
export function withBuiltinMigrations(user: Migrations = {}): Migrations {
  const merged: Migrations = {};
  for (const kind of new Set([...Object.keys(builtinMigrations), ...Object.keys(user)]) as Set<
    keyof Migrations
  >) {
    merged[kind] = { ...builtinMigrations[kind], ...user[kind] };
  }
  return merged;
}
