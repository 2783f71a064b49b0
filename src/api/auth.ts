import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { OverseerError } from '../core/errors.ts';
import { WorkspaceIdSchema } from '../contracts/common.ts';
import { IdSchema } from '../contracts/common.ts';
import { CHECK_TOKEN_TYP, PHASE_TOKEN_TYP } from '../contracts/phase-tokens.ts';
import { PhaseTokens } from './phase-tokens.ts';
import {
  CLOCK_TOLERANCE_SECONDS,
  DEFAULT_AUDIENCE,
  DEFAULT_ISSUER,
  TOKEN_ALGORITHM,
  withSecretKey,
  type TokenSettings,
} from './token-settings.ts';
import { ROLES, ScopeSchema, scopesOpen, type Principal, type Scope } from '../contracts/scopes.ts';

/** The `typ` header of API tokens; other token kinds (phase and check tokens) use their own and never pass as API tokens. */
export const API_TOKEN_TYP = 'overseer-api+jwt';
/** The `typ` header of a worker's own credential: an API token bound to one worker by its `wrk` claim. */
export const WORKER_TOKEN_TYP = 'overseer-worker+jwt';
/** How long a worker credential lives unless renewed by a heartbeat answer. */
export const WORKER_CREDENTIAL_TTL_SECONDS = 3600;
/** The longest a worker credential may live (`token create --worker --ttl` included); revocations are kept as long. */
export const MAX_WORKER_CREDENTIAL_TTL_SECONDS = 24 * 3600;
export {
  CLOCK_TOLERANCE_SECONDS,
  DEFAULT_AUDIENCE,
  DEFAULT_ISSUER,
  TOKEN_ALGORITHM,
  type TokenSettings,
} from './token-settings.ts';
const CACHE_SIZE = 10_000;
const CACHE_MAX_AGE_MS = 60_000;

const ClaimsSchema = z.object({
  sub: z.string().min(1).max(256),
  ws: WorkspaceIdSchema,
  scopes: z.array(ScopeSchema).max(16),
  exp: z.number(),
  iat: z.number().optional(),
  wrk: IdSchema.optional(),
});

/** Whether a worker's credentials are revoked (the worker ended): checked on every call, cached or not. */
export type RevocationCheck = (workspaceId: string, workerId: string) => boolean;

/** A worker's own credential and when it lapses (ms since the epoch). */
export interface WorkerCredential {
  token: string;
  expiresAt: number;
}

/** What mints worker credentials for commands (an {@link Authenticator}). */
export interface CredentialMinter {
  mintWorkerCredential(workspaceId: string, workerId: string): Promise<WorkerCredential>;
  /** Whether a worker's credentials are revoked. */
  isRevoked(workspaceId: string, workerId: string): boolean;
}

/** Mints an API token (the CLI's `overseer token create`). */
export async function createToken(
  settings: TokenSettings,
  claims: { sub: string; workspaceId: string; scopes: readonly Scope[]; ttlSeconds: number; now?: number },
): Promise<string> {
  const now = Math.floor((claims.now ?? Date.now()) / 1000);
  return new SignJWT({ ws: claims.workspaceId, scopes: [...claims.scopes] })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: API_TOKEN_TYP })
    .setSubject(claims.sub)
    .setIssuer(settings.issuer ?? DEFAULT_ISSUER)
    .setAudience(settings.audience ?? DEFAULT_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + claims.ttlSeconds)
    .sign(settings.secret);
}

/**
 * Mints a worker's own credential: `typ` {@link WORKER_TOKEN_TYP}, subject and `wrk` claim the worker id, the
 * `agent` role's scopes. It acts on that worker only (see `ownership.ts`).
 */
export async function createWorkerCredential(
  settings: TokenSettings,
  claims: { workspaceId: string; workerId: string; ttlSeconds?: number; now?: number },
): Promise<WorkerCredential> {
  const now = Math.floor((claims.now ?? Date.now()) / 1000);
  const ttl = Math.min(claims.ttlSeconds ?? WORKER_CREDENTIAL_TTL_SECONDS, MAX_WORKER_CREDENTIAL_TTL_SECONDS);
  const token = await new SignJWT({ ws: claims.workspaceId, scopes: [...ROLES.agent], wrk: claims.workerId })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: WORKER_TOKEN_TYP })
    .setSubject(claims.workerId)
    // Each credential is distinct (two minted in one second are not the same string).
    .setJti(randomBytes(12).toString('base64url'))
    .setIssuer(settings.issuer ?? DEFAULT_ISSUER)
    .setAudience(settings.audience ?? DEFAULT_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .sign(settings.secret);
  return { token, expiresAt: (now + ttl) * 1000 };
}

interface Cached {
  principal: Principal;
  expMs: number;
  keepUntil: number;
}

/**
 * Verifies bearer tokens with jose (algorithm pinned, `exp` required, issuer, audience and `typ` checked, ≤ 30 s
 * skew) and caches verified ones by token string (LRU, 10,000 entries, each kept until min(exp, now + 60 s)). A
 * cache hit still checks expiry and, for a worker's credential, revocation (one map lookup); scope and workspace
 * are checked per call by `authorize`. Shared by HTTP, NATS and the library.
 */
export class Authenticator implements CredentialMinter {
  private readonly settings: Required<TokenSettings>;
  private readonly now: () => number;
  private readonly cache = new Map<string, Cached>();
  private readonly revoked: RevocationCheck;
  /** Mints and verifies phase and check tokens with the same secret, issuer and audience. */
  readonly phaseTokens: PhaseTokens;

  constructor(settings: TokenSettings, now: () => number = Date.now, revoked: RevocationCheck = () => false) {
    this.settings = withSecretKey({ issuer: DEFAULT_ISSUER, audience: DEFAULT_AUDIENCE, ...settings });
    this.now = now;
    this.revoked = revoked;
    this.phaseTokens = new PhaseTokens(this.settings, now);
  }

  /** Mints a credential bound to one worker, signed like every token this authenticator verifies. */
  mintWorkerCredential(workspaceId: string, workerId: string): Promise<WorkerCredential> {
    return createWorkerCredential(this.settings, { workspaceId, workerId, now: this.now() });
  }

  /** The principal of a token, or UNAUTHENTICATED / TOKEN_EXPIRED. */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (!token)
      throw new OverseerError(
        'UNAUTHENTICATED',
        'A bearer token is required: Authorization: Bearer <token>.',
      );
    const now = this.now();
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.expMs + CLOCK_TOLERANCE_SECONDS * 1000 <= now) {
        this.cache.delete(token);
        // An expired phase token is still a principal (flagged `expired`: only a refresh takes it).
        if (hit.principal.phase) return this.unlessRevoked({ ...hit.principal, expired: true });
        throw new OverseerError('TOKEN_EXPIRED');
      }
      if (hit.keepUntil > now) {
        this.cache.delete(token);
        this.cache.set(token, hit);
        return this.unlessRevoked(hit.principal);
      }
      this.cache.delete(token);
    }
    return this.unlessRevoked(await this.verify(token, now));
  }

  private unlessRevoked(principal: Principal): Principal {
    return unlessRevoked(principal, this.revoked);
  }

  /** Whether a worker's credentials are revoked (for callers holding a principal, not a token: the library). */
  isRevoked(workspaceId: string, workerId: string): boolean {
    return this.revoked(workspaceId, workerId);
  }

  private verified = 0;

  private async verify(token: string, now: number): Promise<Principal> {
    this.verified++;
    if (isPhaseOrCheckToken(headerTyp(token))) return this.verifyPhaseOrCheck(token, now);
    let payload: unknown;
    let typ: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { typ },
      } = await jwtVerify(token, this.settings.secret, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new OverseerError('TOKEN_EXPIRED');
      throw new OverseerError('UNAUTHENTICATED', 'The token is invalid.', {
        reason: (err as { code?: string }).code ?? 'ERR_INVALID',
      });
    }
    if (typ !== API_TOKEN_TYP && typ !== WORKER_TOKEN_TYP)
      throw new OverseerError('UNAUTHENTICATED', 'The token is invalid.', {
        reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      });
    const expMs = (payload as { exp: number }).exp * 1000;
    const principal = { ...principalOf(typ, ClaimsSchema.safeParse(payload)), expiresAt: expMs };
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, { principal, expMs, keepUntil: Math.min(expMs, now + CACHE_MAX_AGE_MS) });
    return principal;
  }

  /**
   * The principal of a phase token (bound to its worker, so revoking the worker revokes it; expired ones flagged
   * `expired`) or of a check token (bound to no worker: it lives as long as its lease). Neither holds a scope:
   * what each opens is the commands that take it (`tokens` in their definitions).
   */
  private async verifyPhaseOrCheck(token: string, now: number): Promise<Principal> {
    let principal: Principal;
    let expMs: number;
    if (headerTyp(token) === PHASE_TOKEN_TYP) {
      const claims = await this.phaseTokens.verifyPhaseToken(token, { allowExpired: true });
      expMs = claims.exp * 1000;
      principal = {
        sub: claims.wrk,
        workspaceId: claims.ws,
        scopes: [],
        workerId: claims.wrk,
        phase: claims,
      };
      if (expMs + CLOCK_TOLERANCE_SECONDS * 1000 <= now) return { ...principal, expired: true };
    } else {
      const claims = await this.phaseTokens.verifyCheckToken(token);
      expMs = claims.exp * 1000;
      principal = { sub: `check:${claims.job}`, workspaceId: claims.ws, scopes: [], check: claims };
    }
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, { principal, expMs, keepUntil: Math.min(expMs, now + CACHE_MAX_AGE_MS) });
    return principal;
  }

  /** Number of cached tokens. */
  get cached(): number {
    return this.cache.size;
  }

  /** How many tokens were verified in full (signature and claims) rather than answered from the cache. */
  get verifications(): number {
    return this.verified;
  }
}

/** The principal, unless it is a worker credential whose worker has ended: 401 UNAUTHENTICATED `ERR_REVOKED`. */
export function unlessRevoked(principal: Principal, revoked: RevocationCheck): Principal {
  if (principal.workerId !== undefined && revoked(principal.workspaceId, principal.workerId))
    throw new OverseerError('UNAUTHENTICATED', 'This worker credential was revoked: the worker has ended.', {
      reason: 'ERR_REVOKED',
      workerId: principal.workerId,
    });
  return principal;
}

const isPhaseOrCheckToken = (typ: unknown) => typ === PHASE_TOKEN_TYP || typ === CHECK_TOKEN_TYP;

/** The `typ` of a token's header, read without verifying (undefined when it is no JWT). */
function headerTyp(token: string): unknown {
  try {
    return decodeProtectedHeader(token).typ;
  } catch {
    return undefined;
  }
}
/**
 * The principal of verified claims: a worker credential must carry `wrk` (equal to its subject), the agent's
 * scopes and a lifetime within {@link MAX_WORKER_CREDENTIAL_TTL_SECONDS}; an API token must carry no `wrk`.
 */
function principalOf(typ: string, claims: z.ZodSafeParseResult<z.output<typeof ClaimsSchema>>): Principal {
  const bad = (why: string) =>
    new OverseerError('UNAUTHENTICATED', `The token lacks valid claims: ${why}.`, { reason: 'ERR_CLAIMS' });
  if (!claims.success) throw bad('sub, ws and scopes are required');
  const { sub, ws, scopes, wrk, iat, exp } = claims.data;
  if (typ === API_TOKEN_TYP) {
    if (wrk !== undefined) throw bad('an API token is bound to no worker');
    return { sub, workspaceId: ws, scopes };
  }
  if (wrk === undefined || wrk !== sub) throw bad('a worker credential names its worker in sub and wrk');
  if (iat === undefined || exp - iat > MAX_WORKER_CREDENTIAL_TTL_SECONDS)
    throw bad(`a worker credential lives at most ${MAX_WORKER_CREDENTIAL_TTL_SECONDS} s`);
  if (scopes.some((s) => !(ROLES.agent as readonly Scope[]).includes(s)))
    throw bad("a worker credential holds the agent role's scopes only");
  return { sub, workspaceId: ws, scopes, workerId: wrk };
}

/**
 * The workspace a call runs in: the token's own, or with `admin` any workspace it names. A missing scope answers
 * INSUFFICIENT_SCOPE (no scopes listed: any valid token). Objects of another workspace are then simply NOT_FOUND in the token's workspace.
 */
export function authorize(
  principal: Principal,
  scopes: readonly Scope[],
  requestedWorkspace?: string,
): string {
  if (!scopesOpen(principal.scopes, scopes)) {
    throw new OverseerError('INSUFFICIENT_SCOPE', `This needs one of the scopes ${scopes.join(', ')}.`, {
      required: scopes,
      granted: principal.scopes,
    });
  }
  if (principal.scopes.includes('admin') && requestedWorkspace !== undefined) return requestedWorkspace;
  return principal.workspaceId;
}
