import { JournalRecordSchema, type JournalRecord } from '../contracts/journal.ts';
import { requestCommand } from '../transport/command-requests.ts';
import { NatsBus } from '../transport/nats-bus.ts';
import { subjects } from '../transport/subjects.ts';
import type { EventSubscription, Transport, TransportCallOptions } from './transport.ts';

/** Options of {@link NatsTransport.connect}. */
export interface NatsTransportOptions {
  servers: string | string[];
  workspaceId: string;
  /**
   * Where replies arrive: a client fenced by `overseer nats-config --workspace` needs `_INBOX_<workspace>`, one
   * fenced by `--worker` `_INBOX_<workspace>.<worker>`.
   */
  inboxPrefix: string;
  /** The connection name the NATS server shows. */
  name: string;
}

/**
 * The agent's transport over NATS: each command a request on `overseer.cmd.<workspace>.<command>` (token and
 * idempotency key as headers, via {@link requestCommand}); events a subscription to `overseer.evt.<workspace>.>`.
 * The connection reconnects on its own; a request made while it is down waits for it until its timeout.
 */
export class NatsTransport implements Transport {
  readonly kind = 'nats';

  private constructor(
    private readonly bus: NatsBus,
    private readonly workspaceId: string,
  ) {}

  /** Connects; fails with STORAGE_UNAVAILABLE (reason `unreachable`) when no server answers. */
  static async connect(options: NatsTransportOptions): Promise<NatsTransport> {
    const bus = await NatsBus.connect({
      servers: options.servers,
      name: options.name,
      inboxPrefix: options.inboxPrefix,
    });
    return new NatsTransport(bus, options.workspaceId);
  }

  call(command: string, input: Record<string, unknown>, options: TransportCallOptions): Promise<unknown> {
    return requestCommand(this.bus, this.workspaceId, command, input, {
      token: options.token,
      idempotencyKey: options.idempotencyKey,
      timeoutMs: options.timeoutMs,
    });
  }

  subscribe(onRecord: (record: JournalRecord) => void): EventSubscription {
    return this.bus.subscribe(subjects.workspaceEvents(this.workspaceId), (payload) => {
      const parsed = JournalRecordSchema.safeParse(payload);
      if (parsed.success) onRecord(parsed.data);
    });
  }

  close(): Promise<void> {
    return this.bus.close();
  }
}
