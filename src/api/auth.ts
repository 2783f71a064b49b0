import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { OverseerError } from '../core/errors.ts';
import { WorkspaceIdSchema } from '../contracts/common.ts';
import { ScopeSchema, type Principal, type Scope } from '../contracts/scopes.ts';

/** The `typ` header of API tokens; other token kinds (phase tokens) use their own and never pass as API tokens. */
export const API_TOKEN_TYP = 'overseer-api+jwt';
export const TOKEN_ALGORITHM = 'HS256';
export const DEFAULT_ISSUER = 'overseer';
export const DEFAULT_AUDIENCE = 'overseer-api';
/** Allowed clock skew when checking exp and nbf. */
export const CLOCK_TOLERANCE_SECONDS = 30;
const CACHE_SIZE = 10_000;
const CACHE_MAX_AGE_MS = 60_000;

const ClaimsSchema = z.object({
  sub: z.string().min(1).max(256),
  ws: WorkspaceIdSchema,
  scopes: z.array(ScopeSchema).max(16),
  exp: z.number(),
});

export interface TokenSettings {
  secret: Uint8Array;
  issuer?: string;
  audience?: string;
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

interface Cached {
  principal: Principal;
  expMs: number;
  keepUntil: number;
}

/**
 * Verifies bearer tokens with jose (algorithm pinned, `exp` required, issuer, audience and `typ` checked, ≤ 30 s
 * skew) and caches verified ones by token string (LRU, 10,000 entries, each kept until min(exp, now + 60 s)). A
 * cache hit still checks expiry; scope and workspace are checked per call by `authorize`. Shared by HTTP and NATS.
 */
export class Authenticator {
  private readonly settings: Required<TokenSettings>;
  private readonly now: () => number;
  private readonly cache = new Map<string, Cached>();

  constructor(settings: TokenSettings, now: () => number = Date.now) {
    this.settings = { issuer: DEFAULT_ISSUER, audience: DEFAULT_AUDIENCE, ...settings };
    this.now = now;
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
        throw new OverseerError('TOKEN_EXPIRED');
      }
      if (hit.keepUntil > now) {
        this.cache.delete(token);
        this.cache.set(token, hit);
        return hit.principal;
      }
      this.cache.delete(token);
    }
    const principal = await this.verify(token, now);
    return principal;
  }

  private async verify(token: string, now: number): Promise<Principal> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.settings.secret, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        typ: API_TOKEN_TYP,
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
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success)
      throw new OverseerError('UNAUTHENTICATED', 'The token lacks valid sub, ws or scopes claims.', {
        reason: 'ERR_CLAIMS',
      });
    const principal: Principal = {
      sub: claims.data.sub,
      workspaceId: claims.data.ws,
      scopes: claims.data.scopes,
    };
    const expMs = claims.data.exp * 1000;
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, { principal, expMs, keepUntil: Math.min(expMs, now + CACHE_MAX_AGE_MS) });
    return principal;
  }

  /** Number of cached tokens. */
  get cached(): number {
    return this.cache.size;
  }
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
  const admin = principal.scopes.includes('admin');
  if (!admin && scopes.length > 0 && !scopes.some((s) => principal.scopes.includes(s))) {
    throw new OverseerError('INSUFFICIENT_SCOPE', `This needs one of the scopes ${scopes.join(', ')}.`, {
      required: scopes,
      granted: principal.scopes,
    });
  }
  if (admin && requestedWorkspace !== undefined) return requestedWorkspace;
  return principal.workspaceId;
}
