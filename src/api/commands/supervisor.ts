import { EventPageSchema, SupervisorMetricsSchema, WhoAmISchema } from '../../contracts/answers.ts';
import { EventListSchema } from '../../contracts/journal.ts';
import { query } from '../command.ts';
import { none, query as fromQuery } from '../route-input.ts';
import { Empty } from './refs.ts';

/** The fleet's numbers, who a token is, and the workspace's journal. */
export const supervisorCommands = [
  query({
    name: 'supervisor.metrics',
    summary: 'Workers and jobs by status, queue depth, usage by depth, transitions per minute.',
    input: Empty,
    output: SupervisorMetricsSchema,
    scopes: ['supervisor:read'],
    http: [{ method: 'GET', path: '/api/supervisor/metrics', tag: 'supervisor', input: none }],
    run: async (ctx) => {
      await ctx.host.pipeline.settled();
      const work = ctx.host.env.work.get(ctx.ws);
      return {
        workers: ctx.host.statusCounts(ctx.ws, 'worker'),
        jobs: ctx.host.statusCounts(ctx.ws, 'job'),
        queueDepth: work.queue.depthByPriority(),
        resources: work.ledger.usage().byDepth.map((u, depth) => ({ depth, ...u })),
        transitionsPerMinute: ctx.host.transitionsLastMinute(ctx.ws),
      };
    },
  }),
  query({
    name: 'auth.whoami',
    summary: "The token's subject, scopes, bound worker and the workspace it runs in (any valid token).",
    input: Empty,
    output: WhoAmISchema,
    scopes: [],
    http: [{ method: 'GET', path: '/api/v1/whoami', tag: 'auth', input: none }],
    run: (ctx) => {
      const { sub, scopes, workerId } = ctx.principal;
      return Promise.resolve({
        sub,
        workspaceId: ctx.ws,
        scopes: [...scopes],
        ...(workerId ? { workerId } : {}),
      });
    },
  }),
  query({
    name: 'events.list',
    summary: "This workspace's journal records after a seq.",
    input: EventListSchema,
    output: EventPageSchema,
    scopes: ['jobs:read', 'supervisor:read'],
    http: [{ method: 'GET', path: '/api/v1/events', tag: 'events', input: fromQuery }],
    run: (ctx, input) => ctx.host.journal(ctx.ws, input.afterSeq, input.limit),
  }),
] as const;
