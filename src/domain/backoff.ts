/** How retries back off. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 5 * 60_000 };

/**
 * The delay before retry number `retry` (1 for the first): exponential, capped, with "equal jitter" — half the
 * step is fixed and half is random — so retries spread out but never come back at once. `random01` is in [0, 1).
 */
export function retryDelayMs(
  retry: number,
  random01: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + (step / 2) * random01);
}
