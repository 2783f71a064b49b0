import type { JournalRecord } from '../contracts/journal.ts';

/** How one command is sent. */
export interface TransportCallOptions {
  /** The bearer token of this call: the agent's, or its worker's own credential. */
  token: string;
  /** Sent as the `Idempotency-Key` header (mutating commands). */
  idempotencyKey?: string | undefined;
  /** How long to wait for the answer, long-poll included. */
  timeoutMs: number;
}

/** A live event subscription. */
export interface EventSubscription {
  unsubscribe(): void;
}

/**
 * What the agent needs from a transport: one command call (the command table's name and input, the JSON
 * answer back, or an OverseerError with the server's code and details) and, where the transport pushes
 * events, a subscription to the workspace's journal records. A transport is bound to one workspace; each call
 * names its token (the agent switches to its worker's credential after registering).
 */
export interface Transport {
  /** `http` or `nats`, for logs and errors. */
  readonly kind: 'http' | 'nats';
  call(command: string, input: Record<string, unknown>, options: TransportCallOptions): Promise<unknown>;
  /** Delivers the workspace's records as published (at most once); `null` when the transport only polls. */
  subscribe(onRecord: (record: JournalRecord) => void): EventSubscription | null;
  close(): Promise<void>;
}
