import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { OverseerError } from '../core/errors.ts';
import type { ServerConfig } from '../contracts/server-config.ts';

/** Where a node's JWT secret came from: the config or environment, `<dataDir>/jwt-secret`, or made just now. */
export type JwtSecretSource = 'env' | 'file' | 'new';

/** A resolved JWT secret; `save()` writes a new one to `path` (a no-op for the others). */
export interface JwtSecret {
  secret: Uint8Array;
  source: JwtSecretSource;
  path: string;
  save: () => void;
}

/** The JWT secret: from the config/environment, else `<dataDir>/jwt-secret`, created (mode 0600) when `create`. */
export function resolveJwtSecret(
  config: Pick<ServerConfig, 'jwtSecret' | 'dataDir'>,
  create: boolean,
): JwtSecret {
  const path = join(config.dataDir, 'jwt-secret');
  const kept = { path, save: () => undefined };
  if (config.jwtSecret) return { ...kept, secret: new TextEncoder().encode(config.jwtSecret), source: 'env' };
  if (existsSync(path))
    return { ...kept, secret: new TextEncoder().encode(readFileSync(path, 'utf8').trim()), source: 'file' };
  if (!create)
    throw new OverseerError(
      'UNAUTHENTICATED',
      `No JWT secret: set OVERSEER_JWT_SECRET or start the server once to create ${path}.`,
    );
  const secret = randomBytes(32).toString('base64url');
  return {
    path,
    secret: new TextEncoder().encode(secret),
    source: 'new',
    // Written by the caller once the server listens: a start that fails before (a port in use) leaves no secret
    // behind, so the next start creates one and prints its admin token.
    save: () => {
      mkdirSync(config.dataDir, { recursive: true });
      // On disk before the admin token is printed: a token must not outlive its secret after a power loss.
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${secret}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      chmodSync(path, 0o600);
      const dir = openSync(config.dataDir, 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    },
  };
}
