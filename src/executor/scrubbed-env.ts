import { OverseerError } from '../core/errors.ts';

/** The PATH a child gets when the node's own has none. */
export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What a scrubbed environment is made of: nothing is taken from `process.env` but what is passed here. */
export interface ScrubbedEnvInput {
  /** The temporary home directory of this run. */
  home: string;
  /** The search path (the node's own PATH by default, chosen by the caller). */
  path: string;
  /** The explicit allowlist: further variables, by name and value. `OVERSEER_*` and `HOME` are refused. */
  extra?: Readonly<Record<string, string>>;
}

/**
 * The environment of a command the executor runs: PATH, a temporary HOME, `LANG`/`LC_ALL` `C.UTF-8`, `TZ` `UTC`,
 * `CI=1`, and the caller's explicit variables. An `OVERSEER_*` name (the node's secrets live there) or an attempt
 * to move HOME throws `VALIDATION_FAILED`: the check fails closed rather than dropping the variable quietly.
 */
export function scrubbedEnv(input: ScrubbedEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    PATH: input.path,
    HOME: input.home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    CI: '1',
  };
  for (const [name, value] of Object.entries(input.extra ?? {})) {
    const refused = !NAME.test(name)
      ? 'is not a variable name'
      : /^OVERSEER_/i.test(name)
        ? "is the node's own (OVERSEER_*)"
        : name === 'HOME'
          ? 'is the temporary home of the run'
          : null;
    if (refused !== null)
      throw new OverseerError('VALIDATION_FAILED', `the executor will not pass ${name}: it ${refused}`, {
        field: `env.${name}`,
      });
    env[name] = value;
  }
  return env;
}
