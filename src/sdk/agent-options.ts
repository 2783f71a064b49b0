import type { WorkerCredential } from '../contracts/answers.ts';
import type { RetryInfo, RetryPolicy } from './retry.ts';

/** What every connection names, whatever its transport. */
export interface AgentSettings {
  workspaceId: string;
  /**
   * The bearer token the agent connects with: a token that may register workers (`overseer token create --role
   * runner`, or one with `queue:work`), or, with `workerId`, that worker's own credential. After `register()` the
   * agent's calls on its worker carry the worker's own credential instead.
   */
  token: string;
  /**
   * Act as this existing worker from the start, without `register()`: a restarted agent, or one a runner
   * registered and handed `{ workerId, credential }` to. Over NATS the inbox prefix defaults to the worker's own.
   */
  workerId?: string;
  /** Called with each credential the worker receives (its registration's, then every renewal), to keep it. */
  onCredential?: (credential: WorkerCredential) => void;
  /** The wait for one answer besides a claim's `waitMs` (default 5,000 ms). */
  timeoutMs?: number;
  /** How retryable errors are retried (see {@link RetryPolicy}). */
  retry?: Partial<RetryPolicy>;
  /** Called before each retry (to log it). */
  onRetry?: (info: RetryInfo) => void;
  /** The clock phase-token refreshes are timed by (default `Date.now`). */
  clock?: { now(): number };
}

/** Options of `connectAgent`: the REST API (`http`) or NATS (`nats`). */
export type AgentOptions = AgentSettings &
  (
    | { /** The server's base URL, e.g. `http://127.0.0.1:8080`. */ http: string; nats?: never }
    | {
        /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
        nats: string | string[];
        /**
         * The reply subject prefix: default `_INBOX_<workspaceId>.<workerId>` with `workerId` (what `overseer
         * nats-config --worker` allows), else `_INBOX_<workspaceId>` (what `nats-config --workspace` allows).
         */
        inboxPrefix?: string;
        /** The connection name the NATS server shows (default `overseer-agent`). */
        name?: string;
        http?: never;
      }
  );

/** Options of a call that changes state. */
export interface CallOptions {
  /** The key of this logical call (default: a fresh UUID), sent on every try. */
  idempotencyKey?: string;
}
