import { describe, expect, it } from 'vitest';
import { HttpMetrics } from '../../src/http/metrics.ts';

describe('Prometheus metric names', () => {
  it('carry the overseer_ prefix once: overseer_process_…, overseer_nodejs_…, never overseer_process_process_…', async () => {
    const text = await new HttpMetrics(() => ({ workspaces: [] })).registry.metrics();
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    expect(names).toContain('overseer_process_cpu_user_seconds_total');
    expect(names).toContain('overseer_process_resident_memory_bytes');
    expect(names).toContain('overseer_nodejs_eventloop_lag_seconds');
    expect(names.filter((n) => !n.startsWith('overseer_') || n.includes('process_process'))).toEqual([]);
  });
});
