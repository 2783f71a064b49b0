import type { Job } from '../contracts/job.ts';
import type { ClaimAnswer } from '../contracts/answers.ts';

/**
 * A claimed job with its lease. `leaseToken` is the lease's secret: pass it to heartbeat, complete and fail, and
 * show it to no one (a wrong one answers `LEASE_LOST`). `fence` is the lease's fencing number, public and growing
 * with every claim of the workspace: order writes by it, never authenticate with it.
 */
export interface Claim {
  job: Job;
  leaseToken: string;
  fence: number;
  leaseExpiresAt: number;
  /** How many times the job was retried before this claim. */
  retryCount: number;
}

/** The claim of a claim answer, or null when it carries no job. */
export function toClaim(answer: ClaimAnswer): Claim | null {
  if (!answer.job || !answer.lease) return null;
  return {
    job: answer.job,
    leaseToken: answer.lease.token,
    fence: answer.lease.fence,
    leaseExpiresAt: answer.lease.expiresAt,
    retryCount: answer.workOrder?.retryCount ?? 0,
  };
}
