/** A subscription; `unsubscribe()` stops delivery. */
export interface Subscription {
  unsubscribe(): void;
}

/** Handles a request and returns its reply. */
export type RequestHandler = (
  payload: unknown,
  headers: Readonly<Record<string, string>>,
) => Promise<unknown>;

/**
 * Carries commands (request/reply) and events (publish/subscribe) between actors, agents and nodes.
 * The in-process implementation is the default; a NATS one spans processes.
 */
export interface Bus {
  publish(subject: string, payload: unknown): void;
  subscribe(pattern: string, handler: (payload: unknown, subject: string) => void): Subscription;
  request(
    subject: string,
    payload: unknown,
    options?: { headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<unknown>;
  serve(pattern: string, handler: RequestHandler): Subscription;
  close(): Promise<void>;
}
