// What every token this node signs shares: algorithm, issuer, audience, clock skew, and the secret.
import { createSecretKey, type KeyObject } from 'node:crypto';

export const TOKEN_ALGORITHM = 'HS256';
export const DEFAULT_ISSUER = 'overseer';
export const DEFAULT_AUDIENCE = 'overseer-api';
/** Allowed clock skew when checking exp and nbf. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** The HS256 secret (its bytes, or a key made of them once), issuer and audience tokens are signed and verified with. */
export interface TokenSettings {
  secret: Uint8Array | KeyObject;
  issuer?: string;
  audience?: string;
}

/**
 * The settings with the secret made a key once: jose turns raw bytes into a key on every sign and verify (about
 * 5 % of a transition's CPU, which verifies one phase token and signs the next).
 */
export function withSecretKey<T extends TokenSettings>(settings: T): T {
  return settings.secret instanceof Uint8Array
    ? { ...settings, secret: createSecretKey(settings.secret) }
    : settings;
}
