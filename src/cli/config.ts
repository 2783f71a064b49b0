import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OverseerError } from '../core/errors.ts';
import { ServerConfigSchema, type ServerConfig } from '../contracts/server-config.ts';

export const CONFIG_FILE = 'overseer.config.yaml';

/** Environment variables and the config keys they set. */
const ENV: [string, (c: Record<string, unknown>, v: string) => void][] = [
  ['OVERSEER_HOST', (c, v) => (c['host'] = v)],
  ['OVERSEER_PORT', (c, v) => (c['port'] = v)],
  ['OVERSEER_DATA_DIR', (c, v) => (c['dataDir'] = v)],
  ['OVERSEER_JWT_SECRET', (c, v) => (c['jwtSecret'] = v)],
  ['OVERSEER_DURABILITY', (c, v) => (c['durability'] = v)],
  ['OVERSEER_LOG_LEVEL', (c, v) => (c['logLevel'] = v)],
  ['OVERSEER_NATS_URL', (c, v) => (c['nats'] = v)],
  ['OVERSEER_GATEWAY', (c, v) => (c['gateway'] = v)],
  ['OVERSEER_RATE_LIMIT', (c, v) => (c['rateLimit'] = { ...(c['rateLimit'] as object), perSecond: v })],
  ['OVERSEER_RATE_BURST', (c, v) => (c['rateLimit'] = { ...(c['rateLimit'] as object), burst: v })],
];

/**
 * The server config: `overseer.config.yaml` (or `--config`) when present, then environment variables, then flags;
 * validated by zod. `logLevel` defaults to info for the server.
 */
export function loadServerConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): ServerConfig {
  const file = typeof flags['config'] === 'string' ? flags['config'] : join(cwd, CONFIG_FILE);
  let raw: Record<string, unknown> = { logLevel: 'info' };
  if (existsSync(file)) {
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new OverseerError('VALIDATION_FAILED', `${file} must hold a YAML mapping.`);
    }
    raw = { ...raw, ...(parsed as Record<string, unknown> | null) };
  } else if (typeof flags['config'] === 'string') {
    throw new OverseerError('VALIDATION_FAILED', `No config file ${file}.`);
  }
  for (const [name, set] of ENV) if (env[name] !== undefined && env[name] !== '') set(raw, env[name]);
  for (const key of ['host', 'port', 'dataDir', 'durability', 'logLevel', 'nats', 'gateway'] as const)
    if (flags[key] !== undefined) raw[key] = flags[key];
  const result = ServerConfigSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Invalid config: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}.`,
      { issues },
    );
  }
  return result.data;
}

/** `1h`, `30m`, `90s`, `7d` or plain seconds. */
export function parseTtl(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  const seconds = m
    ? Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
    : 0;
  if (seconds <= 0)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Invalid --ttl ${value}: use e.g. 30m, 1h, 7d (more than 0).`,
    );
  return seconds;
}
