// The committed runner outputs (tests/workflow/fixtures/reports/README.md) and the exit codes their runs ended with.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Each fixture file and its runner's exit code. */
export const exitCodes = {
  'node-fail.tap': 1,
  'node-fail.spec.txt': 1,
  'node-pass.tap': 0,
  'node-pass.spec.txt': 0,
  'node-load-error.tap': 1,
  'node-load-error.spec.txt': 1,
  'vitest-fail.junit.xml': 1,
  'vitest-pass.junit.xml': 0,
  'vitest-load-error.junit.xml': 1,
  'vitest-no-tests.junit.xml': 1,
  'vitest-fail.tap': 1,
  'vitest-fail.tap-flat': 1,
  'vitest-pass.tap': 0,
  'vitest-load-error.tap': 1,
} as const;
export type Fixture = keyof typeof exitCodes;

/** A fixture's text and exit code, ready for `parseTestReport`. */
export function fixture(name: Fixture): { output: string; exitCode: number } {
  return {
    output: readFileSync(join(import.meta.dirname, 'fixtures', 'reports', name), 'utf8'),
    exitCode: exitCodes[name],
  };
}
