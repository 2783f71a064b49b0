import { describe, expect, it } from 'vitest';
import { leaseDigest, mintLeaseSecret } from '../../src/actors/work/lease-secret.ts';

describe('lease secrets', () => {
  it('are 128 random bits in base64url, never repeated across pool refills, stored only as their digest', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const { token, digest } = mintLeaseSecret();
      expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(digest).toBe(leaseDigest(token));
      expect(digest).not.toContain(token);
      expect(digest).toHaveLength(22);
      seen.add(token);
    }
    // 2,000 secrets span eight refills of the 4 KiB pool: all distinct.
    expect(seen.size).toBe(2_000);
  });
});
