// What every token this node signs shares: algorithm, issuer, audience, clock skew, and the secret.

export const TOKEN_ALGORITHM = 'HS256';
export const DEFAULT_ISSUER = 'overseer';
export const DEFAULT_AUDIENCE = 'overseer-api';
/** Allowed clock skew when checking exp and nbf. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** The HS256 secret, issuer and audience tokens are signed and verified with. */
export interface TokenSettings {
  secret: Uint8Array;
  issuer?: string;
  audience?: string;
}
