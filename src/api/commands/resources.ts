import {
  AllocateAnswerSchema,
  QuotasSchema,
  ReleaseAnswerSchema,
  ResourceUsageSchema,
} from '../../contracts/answers.ts';
import { AllocateSchema, ReleaseSchema } from '../../contracts/resources.ts';
import { allocate, release } from '../../actors/services/resources.ts';
import { checkOwner } from '../ownership.ts';
import { defineCommand, mutation, query } from '../command.ts';
import { allocateWithWait } from '../../actors/work/parking.ts';
import { body, none } from '../route-input.ts';
import { EXAMPLE_JOB_ID, Empty, REFUSABLE } from './refs.ts';

/** The resources service: quotas, usage, and the named resources (locks and pools) of running jobs. */
export const resourceCommands = [
  query({
    name: 'resources.quotas',
    summary: 'Quotas per depth and per workspace, and pool sizes.',
    input: Empty,
    output: QuotasSchema,
    scopes: ['resources:read'],
    http: [{ method: 'GET', path: '/api/resources/quotas', tag: 'resources', input: none }],
    run: (ctx) =>
      Promise.resolve({
        depth: ctx.host.env.settings.resources.depth,
        workspace: ctx.host.env.settings.resources.workspace,
        pools: ctx.host.env.settings.resources.pools,
      }),
  }),
  defineCommand({
    name: 'resources.allocate',
    summary: "Add named resources to a RUNNING job's allocation; waits up to waitMs (FIFO) while busy.",
    input: AllocateSchema,
    output: AllocateAnswerSchema,
    scopes: ['resources:write'],
    mutates: true,
    errors: [...REFUSABLE, 'NOT_YOUR_WORKER', 'DEADLOCK_DETECTED', 'QUOTA_EXCEEDED'],
    example: {
      jobId: EXAMPLE_JOB_ID,
      resources: [{ name: 'gpu', count: 1 }, { name: 'path:src/auth/' }],
      waitMs: 1000,
    },
    http: [{ method: 'POST', path: '/api/resources/allocate', tag: 'resources', input: body }],
    owner: { job: 'jobId' },
    run: (ctx, input) =>
      allocateWithWait(ctx, input, (tx, mayWait) => {
        checkOwner(tx, ctx.principal, { job: 'jobId' }, input);
        return allocate(tx, input, mayWait);
      }),
  }),
  mutation({
    name: 'resources.release',
    summary: "Free part of a job's allocation early.",
    input: ReleaseSchema,
    output: ReleaseAnswerSchema,
    scopes: ['resources:write'],
    errors: [...REFUSABLE, 'NOT_YOUR_WORKER'],
    example: { jobId: EXAMPLE_JOB_ID, resources: [{ name: 'gpu', count: 1 }] },
    owner: { job: 'jobId' },
    http: [{ method: 'POST', path: '/api/resources/release', tag: 'resources', input: body }],
    apply: (tx, input) => release(tx, input),
  }),
  query({
    name: 'resources.usage',
    summary: 'Usage per depth and per workspace, pools and locks held.',
    input: Empty,
    output: ResourceUsageSchema,
    scopes: ['resources:read'],
    http: [{ method: 'GET', path: '/api/resources/usage', tag: 'resources', input: none }],
    run: async (ctx) => {
      await ctx.host.pipeline.settled();
      return ctx.host.env.work.get(ctx.ws).ledger.usage();
    },
  }),
] as const;
