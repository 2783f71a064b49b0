import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

/** The structured logger every component receives (a pino logger). Components bind `{ component }`. */
export type Logger = PinoLogger;

/** Creates the default JSON logger; authorization headers and tokens are redacted. */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({
    level,
    redact: ['token', 'authorization', 'headers.authorization', '*.authorization', '*.token'],
  });
}
