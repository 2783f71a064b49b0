import type { Job } from '../contracts/job.ts';
import type { ClaimAnswer, IssuedToken } from '../contracts/answers.ts';

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
  /** For a job under a workflow: the token of its current phase (the agent keeps it; see `claimTask`). */
  phaseToken?: IssuedToken;
  /** For a job under a workflow: the check token a hook holds; it lapses with the lease. */
  checkToken?: IssuedToken;
}

/** A claim by `claimTask`: for a job under a workflow, the phase it is in (else undefined). */
export interface TaskClaim extends Claim {
  phase: string | undefined;
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
    ...(answer.phaseToken ? { phaseToken: answer.phaseToken } : {}),
    ...(answer.checkToken ? { checkToken: answer.checkToken } : {}),
  };
}
