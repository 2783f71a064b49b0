import { Histogram, Registry, collectDefaultMetrics, Gauge } from 'prom-client';

/** A sample of the runtime for the gauges, taken at each scrape. */
export interface RuntimeSample {
  workspaces: {
    workspaceId: string;
    workers: Record<string, number>;
    jobs: Record<string, number>;
    queueDepth: Record<string, number>;
  }[];
}

/** Prometheus metrics of one server: request latency by route, and the runtime's gauges. */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests: Histogram<'method' | 'route' | 'status'>;

  constructor(sample: () => RuntimeSample) {
    collectDefaultMetrics({ register: this.registry, prefix: 'overseer_process_' });
    this.requests = new Histogram({
      name: 'overseer_http_request_duration_seconds',
      help: 'HTTP request latency by route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers: [this.registry],
    });
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
