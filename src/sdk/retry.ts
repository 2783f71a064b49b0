import { OverseerError } from '../core/errors.ts';

/** How a call is retried: at most `attempts` tries in all, exponential backoff with jitter between them. */
export interface RetryPolicy {
  /** Tries in all, the first included (default 5; 1 turns retries off). */
  attempts: number;
  /** The wait before the first retry (default 100 ms); it doubles each time, with ±50% jitter. */
  baseDelayMs: number;
  /** The longest wait between tries (default 2,000 ms), except a longer `Retry-After` of RATE_LIMITED. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 };

/** What {@link withRetry} reports before each retry. */
export interface RetryInfo {
  command: string;
  /** The try that failed (1 for the first). */
  attempt: number;
  error: OverseerError;
  delayMs: number;
}

/** The wait before retry number `attempt` (1-based) after `error`. */
export function retryDelay(policy: RetryPolicy, attempt: number, error: OverseerError): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(backoff * (0.5 + Math.random()));
  const retryAfter = error.details['retryAfterSeconds'];
  return typeof retryAfter === 'number' ? Math.max(jittered, retryAfter * 1000) : jittered;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `run` until it answers, throws an error that is not retryable (the code's `retryable` flag:
 * STORAGE_UNAVAILABLE, RATE_LIMITED, QUOTA_EXCEEDED unless `details.never`), or has been tried `policy.attempts` times; then the
 * last error is thrown as it came. Each try must send the same idempotency key, so a retry applies once.
 */
export async function withRetry<T>(
  command: string,
  run: () => Promise<T>,
  policy: RetryPolicy,
  options: { onRetry?: ((info: RetryInfo) => void) | undefined; stopped?: () => boolean } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const error =
        err instanceof OverseerError ? err : new OverseerError('INTERNAL', undefined, {}, { cause: err });
      if (!error.retryable || attempt >= policy.attempts || options.stopped?.()) throw error;
      const delayMs = retryDelay(policy, attempt, error);
      options.onRetry?.({ command, attempt, error, delayMs });
      await sleep(delayMs);
      if (options.stopped?.()) throw error;
    }
  }
}
