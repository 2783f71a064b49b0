import { createHash, randomFillSync } from 'node:crypto';
import type { ClaimAnswer } from '../../contracts/answers.ts';

/** A lease's secret token (128 random bits, base64url) and the digest stored in its place. */
export interface LeaseSecret {
  token: string;
  digest: string;
}

/**
 * The SHA-256 digest of a lease token, cut to its first 128 bits (22 characters): the only form in which it is
 * stored. As long as the secret is, so finding a token for a stored digest is no easier than guessing the secret,
 * and every job and worker snapshot stays shorter.
 */
export const leaseDigest = (token: string): string =>
  createHash('sha256').update(token).digest().toString('base64url', 0, 16);

/** Random bytes drawn 4 KiB at a time (one system call per 256 secrets, not one each); every slice is used once. */
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

/**
 * Mints a lease secret: 16 random bytes. A digest suffices to store it (no slow hash): the token carries 128 bits
 * of entropy, so the digest cannot be inverted by guessing.
 */
export function mintLeaseSecret(): LeaseSecret {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const token = pool.toString('base64url', used, used + 16);
  used += 16;
  return { token, digest: leaseDigest(token) };
}

/** A claim answer as an idempotency record keeps it: the lease without its secret (a replay mints a new one). */
export function withoutLeaseSecret(answer: ClaimAnswer): ClaimAnswer {
  if (!answer.lease) return answer;
  const { token: _secret, ...lease } = answer.lease;
  // Stored only: `revealLease` gives a replay a fresh secret before any caller sees it.
  return { ...answer, lease: lease as typeof answer.lease };
}
