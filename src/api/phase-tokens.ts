import { randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { z } from 'zod';
import { OverseerError } from '../core/errors.ts';
import {
  CHECK_TOKEN_TYP,
  CheckTokenClaimsSchema,
  MAX_PHASE_TOKEN_TTL_SECONDS,
  PHASE_TOKEN_TYP,
  PhaseTokenClaimsSchema,
  type CheckTokenClaims,
  type PhaseTokenClaims,
} from '../contracts/phase-tokens.ts';
import {
  CLOCK_TOLERANCE_SECONDS,
  DEFAULT_AUDIENCE,
  DEFAULT_ISSUER,
  TOKEN_ALGORITHM,
  withSecretKey,
  type TokenSettings,
} from './token-settings.ts';

/** A minted token and when it lapses (ms since the epoch). */
export interface MintedToken {
  token: string;
  expiresAt: number;
}

/** What a phase token is bound to, and how long it lives (the workflow's `token_expiry_seconds`). */
export interface PhaseTokenGrant {
  workspaceId: string;
  jobId: string;
  workerId: string;
  phase: string;
  epoch: number;
  /** The fencing number of the lease the token is issued under. */
  fence: number;
  ttlSeconds: number;
}

/** What a check token is bound to; it lapses with the lease (`expiresAt`, ms since the epoch). */
export interface CheckTokenGrant {
  workspaceId: string;
  jobId: string;
  fence: number;
  expiresAt: number;
}

/** Options of {@link PhaseTokens.verifyPhaseToken}. */
export interface VerifyPhaseTokenOptions {
  /** Accept a token past its `exp` (refresh: re-issued while the lease lives, expired or not). */
  allowExpired?: boolean;
}

const KINDS = {
  phase: { typ: PHASE_TOKEN_TYP, name: 'phase token', schema: PhaseTokenClaimsSchema },
  check: { typ: CHECK_TOKEN_TYP, name: 'check token', schema: CheckTokenClaimsSchema },
} as const;
type Kind = keyof typeof KINDS;

const invalid = (message: string, reason: string) =>
  new OverseerError('PHASE_TOKEN_INVALID', message, { reason });

/**
 * Mints and verifies phase and check tokens: HS256 JWTs signed with the API tokens' secret, issuer and audience,
 * told apart by their `typ` ({@link PHASE_TOKEN_TYP}, {@link CHECK_TOKEN_TYP}), so no API token or worker credential
 * passes as one and neither passes as an API token. Verifying proves who issued a token; whether it still fits its
 * job is `checkPhaseClaims` / `checkCheckClaims` (`domain/workflow/check-phase-claims.ts`), against the job's state.
 *
 * @example
 * const tokens = new PhaseTokens({ secret });
 * const { token } = await tokens.mintPhaseToken({ workspaceId, jobId, workerId, phase: 'PLAN', epoch: 0, fence, ttlSeconds: 7200 });
 * const claims = await tokens.verifyPhaseToken(token); // then checkPhaseClaims(claims, facts)
 */
export class PhaseTokens {
  private readonly settings: Required<TokenSettings>;
  private readonly now: () => number;

  constructor(settings: TokenSettings, now: () => number = Date.now) {
    this.settings = withSecretKey({ issuer: DEFAULT_ISSUER, audience: DEFAULT_AUDIENCE, ...settings });
    this.now = now;
  }

  /** A phase token for the lease holder's current phase, living `ttlSeconds`. */
  async mintPhaseToken(grant: PhaseTokenGrant): Promise<MintedToken> {
    if (
      !Number.isInteger(grant.ttlSeconds) ||
      grant.ttlSeconds < 1 ||
      grant.ttlSeconds > MAX_PHASE_TOKEN_TTL_SECONDS
    )
      throw new RangeError(
        `A phase token lives 1 to ${MAX_PHASE_TOKEN_TTL_SECONDS} s, not ${grant.ttlSeconds}.`,
      );
    const iat = Math.floor(this.now() / 1000);
    return this.sign(
      'phase',
      {
        ws: grant.workspaceId,
        job: grant.jobId,
        wrk: grant.workerId,
        phase: grant.phase,
        fence: grant.fence,
        epoch: grant.epoch,
      },
      iat,
      iat + grant.ttlSeconds,
    );
  }

  /** A check token for a claim's lease, lapsing when the lease does (rounded up to the second). */
  async mintCheckToken(grant: CheckTokenGrant): Promise<MintedToken> {
    const iat = Math.floor(this.now() / 1000);
    const exp = Math.ceil(grant.expiresAt / 1000);
    if (exp <= iat) throw new RangeError('A check token is minted only for a lease that has not lapsed.');
    return this.sign('check', { ws: grant.workspaceId, job: grant.jobId, fence: grant.fence }, iat, exp);
  }

  /**
   * The claims of a phase token, or UNAUTHENTICATED (none), PHASE_TOKEN_INVALID (forged, tampered, `alg: none`,
   * another kind of token, claims missing or ill-typed) or TOKEN_EXPIRED (unless `allowExpired`).
   */
  verifyPhaseToken(
    token: string | undefined,
    options: VerifyPhaseTokenOptions = {},
  ): Promise<PhaseTokenClaims> {
    return this.verify('phase', token, options.allowExpired === true);
  }

  /** The claims of a check token, or UNAUTHENTICATED, PHASE_TOKEN_INVALID or TOKEN_EXPIRED as for phase tokens. */
  verifyCheckToken(token: string | undefined): Promise<CheckTokenClaims> {
    return this.verify('check', token, false);
  }

  private async sign(
    kind: Kind,
    claims: Record<string, unknown>,
    iat: number,
    exp: number,
  ): Promise<MintedToken> {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: KINDS[kind].typ })
      .setJti(randomBytes(12).toString('base64url'))
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.settings.secret);
    return { token, expiresAt: exp * 1000 };
  }

  private async verify<K extends Kind>(
    kind: K,
    token: string | undefined,
    allowExpired: boolean,
  ): Promise<z.output<(typeof KINDS)[K]['schema']>> {
    const { typ, name, schema } = KINDS[kind];
    if (!token)
      throw new OverseerError('UNAUTHENTICATED', `A ${name} is required: Authorization: Bearer <token>.`);
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.settings.secret, {
        algorithms: [TOKEN_ALGORITHM],
        typ,
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        requiredClaims: ['exp', 'iat', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      // jose checks `exp` last, after the signature, `typ`, issuer, audience and `nbf`: an expired token is otherwise sound.
      if (err instanceof joseErrors.JWTExpired) {
        if (!allowExpired)
          throw new OverseerError(
            'TOKEN_EXPIRED',
            kind === 'phase'
              ? 'The phase token has expired; refresh it (POST /api/v1/tokens/refresh) while the lease lives.'
              : 'The check token has expired: it lives as long as the lease it was issued under.',
          );
        payload = err.payload;
      } else if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'typ') {
        throw invalid(
          `This is not a ${name}: an API token, a worker credential or another kind of token.`,
          'ERR_WRONG_TYP',
        );
      } else {
        throw invalid(`The ${name} is invalid.`, (err as { code?: string }).code ?? 'ERR_INVALID');
      }
    }
    const claims = schema.safeParse(payload);
    if (!claims.success) throw invalid(`The ${name} lacks valid claims.`, 'ERR_CLAIMS');
    if (kind === 'phase' && claims.data.exp - claims.data.iat > MAX_PHASE_TOKEN_TTL_SECONDS)
      throw invalid(`A ${name} lives at most ${MAX_PHASE_TOKEN_TTL_SECONDS} s.`, 'ERR_CLAIMS');
    return claims.data as z.output<(typeof KINDS)[K]['schema']>;
  }
}
