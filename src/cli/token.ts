import { OverseerError } from '../core/errors.ts';
import { ROLES, RoleSchema, ScopeSchema, type Scope } from '../contracts/scopes.ts';
import { WORKER_ID_PATTERN } from '../contracts/worker.ts';
import {
  createToken,
  createWorkerCredential,
  MAX_WORKER_CREDENTIAL_TTL_SECONDS,
  WORKER_CREDENTIAL_TTL_SECONDS,
} from '../api/auth.ts';
import { parseWorkspaceId } from '../api/validation.ts';
import { resolveJwtSecret } from '../server/jwt-secret.ts';
import { loadServerConfig, parseTtl } from './config.ts';

/**
 * `overseer token create --workspace acme (--role operator | --scopes jobs:read,jobs:write) --ttl 1h [--sub NAME]`:
 * prints a token. A role is its exact set of scopes (`ROLES`); `--scopes` adds to it. With `--worker wrk_…` it
 * prints that worker's own credential instead (see {@link workerCredential}).
 * Reads the secret from the environment or `<dataDir>/jwt-secret`; never opens the store, so it works while the
 * server runs.
 */
export async function tokenCreate(flags: Record<string, unknown>): Promise<string> {
  const config = loadServerConfig(flags);
  const { secret } = resolveJwtSecret(config, false);
  if (typeof flags['workspace'] !== 'string')
    throw new OverseerError('VALIDATION_FAILED', 'Missing --workspace ID.');
  if (flags['worker'] !== undefined) return workerCredential(secret, flags);
  const role = flags['role'];
  if (role !== undefined && !RoleSchema.safeParse(role).success)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Unknown --role ${JSON.stringify(role)}. Known: ${RoleSchema.options.join(', ')}.`,
    );
  if (typeof flags['scopes'] !== 'string' && role === undefined)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Missing --role (${RoleSchema.options.join(', ')}) or --scopes a,b (e.g. jobs:read,jobs:write), or --worker ID.`,
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

/**
 * `token create --workspace acme --worker wrk_… [--ttl 1h]`: the worker's own credential, as `workers.register`
 * answers it: it acts on that worker only, with the `agent` role's scopes, for at most 24 h (heartbeats renew it);
 * once the worker has ended it is refused as revoked. Its scopes and subject are the worker's, so `--role`,
 * `--scopes` and `--sub` are refused with it.
 */
async function workerCredential(secret: Uint8Array, flags: Record<string, unknown>): Promise<string> {
  const workerId = flags['worker'];
  if (typeof workerId !== 'string' || !WORKER_ID_PATTERN.test(workerId))
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Invalid --worker ${JSON.stringify(workerId)}: worker ids match ${WORKER_ID_PATTERN.source}.`,
    );
  const clash = (['role', 'scopes', 'sub'] as const).filter((f) => flags[f] !== undefined);
  if (clash.length > 0)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `--worker mints the worker's own credential (the agent role, subject ${workerId}): drop ${clash.map((f) => `--${f}`).join(', ')}.`,
    );
  const ttlSeconds =
    typeof flags['ttl'] === 'string' ? parseTtl(flags['ttl']) : WORKER_CREDENTIAL_TTL_SECONDS;
  if (ttlSeconds > MAX_WORKER_CREDENTIAL_TTL_SECONDS)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `A worker credential lives at most 24h (${MAX_WORKER_CREDENTIAL_TTL_SECONDS} s); heartbeats renew it.`,
    );
  const credential = await createWorkerCredential(
    { secret },
    { workspaceId: parseWorkspaceId(flags['workspace']), workerId, ttlSeconds },
  );
  return credential.token;
}
