import { OverseerError } from '../core/errors.ts';
import { ScopeSchema, type Scope } from '../contracts/scopes.ts';
import { createToken } from '../api/auth.ts';
import { parseWorkspaceId } from '../api/validation.ts';
import { resolveJwtSecret } from '../server/jwt-secret.ts';
import { loadServerConfig, parseTtl } from './config.ts';

/**
 * `overseer token create --workspace acme --scopes jobs:read,jobs:write --ttl 1h [--sub NAME]`: prints a token.
 * Reads the secret from the environment or `<dataDir>/jwt-secret`; never opens the store, so it works while the
 * server runs.
 */
export async function tokenCreate(flags: Record<string, unknown>): Promise<string> {
  const config = loadServerConfig(flags);
  const { secret } = resolveJwtSecret(config, false);
  if (typeof flags['workspace'] !== 'string')
    throw new OverseerError('VALIDATION_FAILED', 'Missing --workspace ID.');
  if (typeof flags['scopes'] !== 'string')
    throw new OverseerError('VALIDATION_FAILED', 'Missing --scopes a,b (e.g. jobs:read,jobs:write).');
  const scopes = flags['scopes']
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = scopes.filter((s) => !ScopeSchema.safeParse(s).success);
  if (bad.length > 0)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Unknown scopes: ${bad.join(', ')}. Known: ${ScopeSchema.options.join(', ')}.`,
    );
  return createToken(
    { secret },
    {
      sub: typeof flags['sub'] === 'string' ? flags['sub'] : 'cli',
      workspaceId: parseWorkspaceId(flags['workspace']),
      scopes: scopes as Scope[],
      ttlSeconds: parseTtl(typeof flags['ttl'] === 'string' ? flags['ttl'] : '1h'),
    },
  );
}
