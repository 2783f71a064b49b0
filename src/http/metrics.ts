import { Histogram, Registry, collectDefaultMetrics, Gauge } from 'prom-client';

/** A sample of the runtime for the gauges, taken at each scrape. */
export interface RuntimeSample {
  workspaces: {
    workspaceId: string;
    workers: Record<string, number>;
    jobs: Record<string, number>;
    queueDepth: Record<string, number>;
  }[];
  /** The NATS bus's counters, when the node uses NATS. */
  bus?: { published: number; dropped: number; droppedMessages: number };
}

/** Prometheus metrics of one server: request latency by route, and the runtime's gauges. */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests: Histogram<'method' | 'route' | 'status'>;
  /** Latency of commands served over NATS, by command and outcome (`ok` or the error code). */
  readonly natsCommands: Histogram<'command' | 'outcome'>;

  constructor(sample: () => RuntimeSample) {
    collectDefaultMetrics({ register: this.registry, prefix: 'overseer_' });
    this.requests = new Histogram({
      name: 'overseer_http_request_duration_seconds',
      help: 'HTTP request latency by route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers: [this.registry],
    });
    this.natsCommands = new Histogram({
      name: 'overseer_nats_command_duration_seconds',
      help: 'Latency of commands served over NATS, by command and outcome (ok or the error code).',
      labelNames: ['command', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers: [this.registry],
    });
    const counter = (name: string, help: string, pick: (b: NonNullable<RuntimeSample['bus']>) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const bus = sample().bus;
          if (bus) this.set(pick(bus));
        },
      });
    counter('overseer_bus_events_published_total', 'Events published on NATS.', (b) => b.published);
    counter(
      'overseer_bus_events_dropped_total',
      'Events not published: NATS was down or the payload was refused.',
      (b) => b.dropped,
    );
    counter(
      'overseer_bus_subscriber_dropped_messages_total',
      'Events dropped for a slow subscriber (its buffer was full) or unreadable; the runtime never waits for one.',
      (b) => b.droppedMessages,
    );
    const gauge = (
      name: string,
      help: string,
      pick: (w: RuntimeSample['workspaces'][number]) => Record<string, number>,
      label: string,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['workspace', label],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const w of sample().workspaces)
            for (const [k, v] of Object.entries(pick(w)))
              this.set({ workspace: w.workspaceId, [label]: k }, v);
        },
      });
    gauge('overseer_workers', 'Workers by status.', (w) => w.workers, 'status');
    gauge('overseer_jobs', 'Jobs by status.', (w) => w.jobs, 'status');
    gauge('overseer_queue_depth', 'Queued jobs by priority.', (w) => w.queueDepth, 'priority');
  }
}

const WORKSPACE_LABEL = /[{,]workspace="([^"]*)"/;

/**
 * The exposition text with only one workspace's series (and every series without a workspace label): what a
 * non-admin token may see, so that a tenant cannot read other tenants' names or their per-workspace counts (the
 * node-wide totals, such as HTTP latency by route, stay visible).
 */
export function onlyWorkspace(text: string, ws: string): string {
  return text
    .split('\n')
    .filter((line) => {
      if (line.startsWith('#')) return true;
      const m = WORKSPACE_LABEL.exec(line);
      return m === null || m[1] === ws;
    })
    .join('\n');
}
