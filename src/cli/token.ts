import { OverseerError } from '../core/errors.ts';
import { ROLES, RoleSchema, ScopeSchema, type Scope } from '../contracts/scopes.ts';
import { createToken } from '../api/auth.ts';
import { parseWorkspaceId } from '../api/validation.ts';
import { resolveJwtSecret } from '../server/jwt-secret.ts';
import { loadServerConfig, parseTtl } from './config.ts';

/**
 * `overseer token create --workspace acme (--role operator | --scopes jobs:read,jobs:write) --ttl 1h [--sub NAME]`:
 * prints a token. A role is its exact set of scopes (`ROLES`); `--scopes` adds to it.
 * Reads the secret from the environment or `<dataDir>/jwt-secret`; never opens the store, so it works while the
 * server runs.
 */
export async function tokenCreate(flags: Record<string, unknown>): Promise<string> {
  const config = loadServerConfig(flags);
  const { secret } = resolveJwtSecret(config, false);
  if (typeof flags['workspace'] !== 'string')
    throw new OverseerError('VALIDATION_FAILED', 'Missing --workspace ID.');
  const role = flags['role'];
  if (role !== undefined && !RoleSchema.safeParse(role).success)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Unknown --role ${JSON.stringify(role)}. Known: ${RoleSchema.options.join(', ')}.`,
    );
  if (typeof flags['scopes'] !== 'string' && role === undefined)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Missing --role (${RoleSchema.options.join(', ')}) or --scopes a,b (e.g. jobs:read,jobs:write).`,
    );
  const listed = typeof flags['scopes'] === 'string' ? flags['scopes'].split(',') : [];
  const scopes = [
    ...new Set([
      ...(role === undefined ? [] : ROLES[RoleSchema.parse(role)]),
      ...listed.map((s) => s.trim()).filter(Boolean),
    ]),
  ];
  const bad = scopes.filter((s) => !ScopeSchema.safeParse(s).success);
  if (bad.length > 0)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Unknown scopes: ${bad.join(', ')}. Known: ${ScopeSchema.options.join(', ')}.`,
    );
  return createToken(
    { secret },
    {
      sub: typeof flags['sub'] === 'string' ? flags['sub'] : typeof role === 'string' ? role : 'cli',
      workspaceId: parseWorkspaceId(flags['workspace']),
      scopes: scopes as Scope[],
      ttlSeconds: parseTtl(typeof flags['ttl'] === 'string' ? flags['ttl'] : '1h'),
    },
  );
}
