/**
 * The test kit (`overseer/testing`): temp data dirs and a simulated clock.
 *
 * @example
 * ```ts
 * const dir = await tempDataDir();
 * const clock = simulatedClock();
 * const ov = await createOverseer({ dataDir: dir.path, clock });
 * clock.increment(30_000); // heartbeat deadlines fire
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import type { Clock } from './core/clock.ts';

/** A temp data dir, removed by `remove()`. */
export interface TempDataDir {
  readonly path: string;
  remove(): void;
}

/** A fresh temp directory for one runtime's data. */
export function tempDataDir(prefix = 'overseer-test-'): TempDataDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A clock whose time moves only when told: `increment(ms)` fires every timer that falls due. */
export interface TestClock extends Clock {
  increment(ms: number): void;
  set(ms: number): void;
}

/** XState's SimulatedClock, starting at `start` (default 2026-01-01T00:00:00Z). */
export function simulatedClock(start = Date.UTC(2026, 0, 1)): TestClock {
  const clock = new SimulatedClock();
  clock.set(start);
  return clock;
}

export { startNatsServer } from './testing/nats-server.ts';
export type { NatsServer, NatsServerOptions } from './testing/nats-server.ts';
