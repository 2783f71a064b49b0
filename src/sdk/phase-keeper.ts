import { OverseerError } from '../core/errors.ts';
import type { IssuedToken } from '../contracts/answers.ts';
import type { Claim } from './claim.ts';

/** The error of a phase call without a workflow task. */
export const noTask = (): OverseerError =>
  new OverseerError(
    'VALIDATION_FAILED',
    'The agent holds no workflow task: claim one first (agent.claimTask()), and check that it carries a phase token.',
  );

/** The share of a phase token's life left at which the agent refreshes it before a call (10 %). */
export const REFRESH_AT_LIFE_LEFT = 0.1;

/** The `phase` claim of a phase token (a JWT), read without verifying it: the server does that. */
function phaseClaims(token: string): { phase?: unknown } {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      phase?: unknown;
    };
  } catch {
    return {};
  }
}

/** What `requestTransition` sends: the phase to move to and the artifacts of the move, by name. */
export interface TransitionRequest {
  targetPhase: string;
  artifacts?: Record<string, unknown>;
}

/** The workflow task an agent holds, as it last heard (see `Agent.task`). */
export interface TaskTokens {
  jobId: string | undefined;
  phase: string | undefined;
  phaseToken: IssuedToken | undefined;
  checkToken: IssuedToken | undefined;
}

/**
 * The workflow state of the task an agent works: its job, the phase it is in, the phase token and the check
 * token, and when the agent received the phase token (to refresh it before it lapses).
 */
export class PhaseKeeper {
  jobId: string | undefined;
  phase: string | undefined;
  phaseToken: IssuedToken | undefined;
  checkToken: IssuedToken | undefined;
  private issuedAt = 0;

  constructor(private readonly clock: { now(): number }) {}

  /** Keeps the tokens of a claim (null: none came) for the phase calls; answers the claim. */
  keep<C extends Claim>(claim: C | null): C | null {
    if (claim) this.adoptClaim(claim.job.id, claim.phaseToken, claim.checkToken);
    return claim;
  }

  /** Takes up the tokens of a claim (or forgets the last task's when the claim carries none). */
  adoptClaim(jobId: string, phaseToken: IssuedToken | undefined, checkToken: IssuedToken | undefined): void {
    this.jobId = jobId;
    this.phase = undefined;
    this.phaseToken = undefined;
    this.checkToken = checkToken;
    if (phaseToken) this.adoptPhaseToken(phaseToken);
  }

  /** Takes up a new phase token (a transition's, a refresh's): its phase and the start of its life. */
  adoptPhaseToken(token: IssuedToken, phase?: string): void {
    const claims = phaseClaims(token.token);
    this.phaseToken = token;
    this.phase = phase ?? (typeof claims.phase === 'string' ? claims.phase : this.phase);
    this.issuedAt = this.clock.now();
  }

  /** The task reached its final phase: no phase token any more. */
  finish(phase: string): void {
    this.phase = phase;
    this.phaseToken = undefined;
  }

  /** Whether the phase token has less than {@link REFRESH_AT_LIFE_LEFT} of its life left (or none at all). */
  needsRefresh(): boolean {
    if (!this.phaseToken) return false;
    const life = this.phaseToken.expiresAt - this.issuedAt;
    return this.phaseToken.expiresAt - this.clock.now() < life * REFRESH_AT_LIFE_LEFT;
  }

  /**
   * Runs a phase call with the phase token: refreshed first when little of its life is left, and once more after
   * a 401 TOKEN_EXPIRED (the agent's clock and the server's disagree, or the agent slept).
   */
  async withPhaseToken<T>(call: (token: string) => Promise<T>, refresh: () => Promise<unknown>): Promise<T> {
    if (this.phaseToken === undefined) throw noTask();
    if (this.needsRefresh()) await refresh();
    try {
      return await call(this.phaseToken.token);
    } catch (err) {
      if (!(err instanceof OverseerError && err.code === 'TOKEN_EXPIRED')) throw err;
      await refresh();
      return call(this.phaseToken.token);
    }
  }

  /** Forgets the task (completed or failed). */
  clear(): void {
    this.jobId = this.phase = this.phaseToken = this.checkToken = undefined;
  }
}
