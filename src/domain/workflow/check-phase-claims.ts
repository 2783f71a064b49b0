import { OverseerError } from '../../core/errors.ts';
import type { CheckTokenClaims, PhaseTokenClaims } from '../../contracts/phase-tokens.ts';

/** Where a job stands now, read in the unit of work that acts on a token: its phase and its lease. */
export interface PhaseFacts {
  workspaceId: string;
  jobId: string;
  /** The job's current phase and its epoch (the epoch grows with every move). */
  phase: string;
  epoch: number;
  /** The fencing number of the job's lease (its last one when no lease is held). */
  fence: number | undefined;
  /** Whether that lease is still held: not lapsed, lost, cancelled, terminated or released. */
  leaseLive: boolean;
  /** The worker holding the lease. */
  workerId: string | undefined;
}

/** What a check token is held against: the job and its lease. */
export type LeaseFacts = Pick<PhaseFacts, 'workspaceId' | 'jobId' | 'fence' | 'leaseLive'>;

/** Why a token does not fit its job, in `details.reason`. */
export const TokenMismatch = {
  OTHER_WORKSPACE: 'OTHER_WORKSPACE',
  OTHER_JOB: 'OTHER_JOB',
  LEASE_ENDED: 'LEASE_ENDED',
  OTHER_LEASE: 'OTHER_LEASE',
  OTHER_WORKER: 'OTHER_WORKER',
  OLD_PHASE: 'OLD_PHASE',
} as const;
export type TokenMismatch = (typeof TokenMismatch)[keyof typeof TokenMismatch];

const invalid = (reason: TokenMismatch, what: string) =>
  new OverseerError('PHASE_TOKEN_INVALID', `This token was issued for ${what}.`, { reason });
const stale = (reason: TokenMismatch, message: string, details: Record<string, unknown> = {}) =>
  new OverseerError('PHASE_TOKEN_STALE', message, { reason, ...details });

/** The binding every token of a claim shares: workspace and job (else invalid), then a live lease under its fence (else stale). */
function checkClaimBinding(claims: { ws: string; job: string; fence: number }, current: LeaseFacts): void {
  if (claims.ws !== current.workspaceId) throw invalid('OTHER_WORKSPACE', 'another workspace');
  if (claims.job !== current.jobId) throw invalid('OTHER_JOB', 'another job');
  if (!current.leaseLive)
    throw stale(
      'LEASE_ENDED',
      "This token's lease has ended (lapsed, lost, cancelled or terminated); claim again.",
    );
  if (claims.fence !== current.fence)
    throw stale('OTHER_LEASE', 'This token belongs to an earlier claim of this job; claim again.');
}

/**
 * Whether a verified phase token may act on its job now: PHASE_TOKEN_INVALID for another workspace or job,
 * PHASE_TOKEN_STALE for another claim (fence), an ended lease, another worker, or an earlier phase or epoch
 * (`details.currentPhase` names the phase the job is in). Pure: the caller reads the facts in its unit of work.
 *
 * @example
 * checkPhaseClaims(await tokens.verifyPhaseToken(bearer), { workspaceId, jobId, phase, epoch, fence, leaseLive, workerId });
 */
export function checkPhaseClaims(claims: PhaseTokenClaims, current: PhaseFacts): void {
  checkClaimBinding(claims, current);
  if (claims.wrk !== current.workerId)
    throw stale('OTHER_WORKER', "This token belongs to another worker's claim of this job; claim again.");
  if (claims.phase !== current.phase || claims.epoch !== current.epoch)
    throw stale(
      'OLD_PHASE',
      `This token is for an earlier phase (${claims.phase}); the job is in ${current.phase}: use the token of the last transition.`,
      { currentPhase: current.phase },
    );
}

/**
 * Whether a verified check token may act on its job now: the same workspace and job (else PHASE_TOKEN_INVALID),
 * the same claim's lease, still live (else PHASE_TOKEN_STALE). The phase does not matter: a move never breaks a hook.
 */
export function checkCheckClaims(claims: CheckTokenClaims, current: LeaseFacts): void {
  checkClaimBinding(claims, current);
}
