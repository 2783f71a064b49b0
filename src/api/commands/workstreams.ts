import { z } from 'zod';
import { WorkstreamDefinitionSchema } from '../../contracts/task-definition.ts';
import {
  WorkstreamListSchema,
  WorkstreamPageSchema,
  WorkstreamPlanSchema,
  WorkstreamSchema,
} from '../../contracts/workstream.ts';
import {
  cancelWorkstream,
  planOf,
  startWorkstream,
  submitWorkstream,
  workstreamView,
} from '../../actors/services/workstreams.ts';
import { mutation, query } from '../command.ts';
import { query as fromQuery, idOnly, withId, type RouteRequest } from '../route-input.ts';
import { cachedRead } from '../read-cache.ts';
import { Reason, REFUSABLE, viewOrNotFound, WorkstreamRef } from './refs.ts';

/** The body is the definition; `?start=false` keeps its jobs SUBMITTED. */
const definitionInput = (req: RouteRequest) => ({
  definition: req.body,
  ...(req.query['start'] === 'false' ? { start: false } : {}),
});

/** The workstreams service: DAGs of jobs from task definitions v2. */
export const workstreamCommands = [
  mutation({
    name: 'workstreams.submit',
    summary: 'Create a workstream and all its jobs in one commit, and start it unless start is false.',
    input: z.object({ definition: WorkstreamDefinitionSchema, start: z.boolean().default(true) }),
    output: WorkstreamSchema,
    scopes: ['jobs:write'],
    errors: ['DEPENDENCY_CYCLE', 'ALREADY_EXISTS', 'WORKFLOW_NOT_FOUND'],
    example: {
      schema_version: '2.0.0',
      workstream_id: 'auth-revamp',
      name: 'Auth revamp',
      tasks: [
        {
          task_id: 'design',
          name: 'Design the login flow',
          type: 'docs',
          execution: { estimated_seconds: 600 },
        },
        {
          task_id: 'build',
          name: 'Build the login flow',
          type: 'feature',
          dependencies: ['design'],
          worker_requirements: { capabilities: ['typescript'] },
          execution: { command: 'npm test', timeout_seconds: 3600, max_retries: 2 },
        },
      ],
    },
    http: [
      {
        method: 'POST',
        path: '/api/v1/workstreams',
        status: 201,
        tag: 'workstreams',
        input: definitionInput,
      },
    ],
    apply: (tx, input) => submitWorkstream(tx, input.definition, input.start),
  }),
  query({
    name: 'workstreams.list',
    summary: 'List workstreams in creation order, filtered by status.',
    input: WorkstreamListSchema,
    output: WorkstreamPageSchema,
    scopes: ['jobs:read'],
    http: [{ method: 'GET', path: '/api/v1/workstreams', tag: 'workstreams', input: fromQuery }],
    run: (ctx, input) =>
      cachedRead(ctx, input.cursor === undefined, `workstreams.list ${JSON.stringify(input)}`, async () => {
        const page = await ctx.host.list(ctx.ws, 'workstream', {
          cursor: input.cursor,
          limit: input.limit,
          filter: (s) => !input.status || s.value === input.status,
        });
        return { workstreams: page.items.map(workstreamView), nextCursor: page.nextCursor };
      }),
  }),
  query({
    name: 'workstreams.get',
    summary: 'Get a workstream.',
    input: WorkstreamRef,
    output: WorkstreamSchema,
    scopes: ['jobs:read'],
    http: [
      { method: 'GET', path: '/api/v1/workstreams/:id', tag: 'workstreams', input: idOnly('workstreamId') },
    ],
    run: (ctx, input) => viewOrNotFound(ctx.host, ctx.ws, 'workstream', input.workstreamId, workstreamView),
  }),
  query({
    name: 'workstreams.plan',
    summary: 'Topological order, stages and critical path.',
    input: WorkstreamRef,
    output: WorkstreamPlanSchema,
    scopes: ['jobs:read'],
    http: [
      {
        method: 'GET',
        path: '/api/v1/workstreams/:id/plan',
        tag: 'workstreams',
        input: idOnly('workstreamId'),
      },
    ],
    run: async (ctx, input) =>
      planOf(await viewOrNotFound(ctx.host, ctx.ws, 'workstream', input.workstreamId, workstreamView)),
  }),
  mutation({
    name: 'workstreams.start',
    summary: 'Start a READY workstream.',
    input: WorkstreamRef,
    output: WorkstreamSchema,
    scopes: ['jobs:write'],
    errors: REFUSABLE,
    http: [
      {
        method: 'POST',
        path: '/api/v1/workstreams/:id/start',
        tag: 'workstreams',
        input: idOnly('workstreamId'),
      },
    ],
    apply: (tx, input) => startWorkstream(tx, input.workstreamId),
  }),
  mutation({
    name: 'workstreams.cancel',
    summary: 'Cancel a workstream and its jobs.',
    input: WorkstreamRef.extend(Reason.shape),
    output: WorkstreamSchema,
    scopes: ['jobs:write'],
    errors: REFUSABLE,
    example: { reason: 'Superseded.' },
    http: [
      {
        method: 'POST',
        path: '/api/v1/workstreams/:id/cancel',
        tag: 'workstreams',
        input: withId('workstreamId'),
      },
    ],
    apply: (tx, input) => cancelWorkstream(tx, input.workstreamId, input.reason),
  }),
] as const;
