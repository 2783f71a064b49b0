import type { RuntimeSample } from '../http/metrics.ts';
import type { NatsBus } from '../transport/nats-bus.ts';
import type { Runtime } from '../runtime.ts';

/**
 * What `/metrics` reads at each scrape: the runtime's counts (none on a gateway, which holds no state) and, on a
 * node that uses NATS, the bus's counters.
 */
export function runtimeSampler(
  runtime: Pick<Runtime, 'sample'> | undefined,
  bus: Pick<NatsBus, 'metrics'> | undefined,
): () => RuntimeSample {
  return () => ({
    workspaces: runtime ? runtime.sample().workspaces : [],
    ...(bus ? { bus: bus.metrics() } : {}),
  });
}
