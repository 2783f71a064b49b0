import { z } from 'zod';
import { JobBatchSchema, JobPageSchema } from '../../contracts/answers.ts';
import { JobListSchema, JobSchema, JobSubmitSchema } from '../../contracts/job.ts';
import { JobUpdateSchema } from '../../contracts/queue.ts';
import { cancelJob, submitJob, updateJob } from '../../actors/services/jobs.ts';
import { jobView } from '../../actors/views.ts';
import { mutation, query } from '../command.ts';
import { cachedRead } from '../read-cache.ts';
import { body, idOnly, query as fromQuery, withId } from '../route-input.ts';
import { JobRef, Reason, REFUSABLE, viewOrNotFound } from './refs.ts';
import { phaseView } from '../../actors/views.ts';

/** The jobs service: submit, list, inspect, edit and cancel jobs. */
export const jobCommands = [
  mutation({
    name: 'jobs.submit',
    summary: 'Submit a job.',
    input: JobSubmitSchema,
    output: JobSchema,
    scopes: ['jobs:write'],
    errors: ['MAX_DEPTH_EXCEEDED', 'DEPENDENCY_CYCLE', 'WORKFLOW_NOT_FOUND', ...REFUSABLE],
    example: {
      title: 'Add a login page',
      description: 'GitHub OAuth, with tests.',
      type: 'feature',
      priority: 'high',
      repositoryUrl: 'https://github.com/acme/web',
      branchName: 'feat/login',
      capabilities: ['typescript'],
      execution: { command: 'npm test', timeoutSeconds: 3600, maxRetries: 3 },
      metadata: { ticket: 'WEB-42' },
    },
    http: [
      { method: 'POST', path: '/api/jobs', status: 201, tag: 'jobs', input: body },
      { method: 'POST', path: '/api/jobs/submit', status: 201, tag: 'jobs', input: body },
      { method: 'POST', path: '/api/v1/tasks', status: 201, tag: 'tasks', input: body },
    ],
    apply: (tx, input) => submitJob(tx, input),
  }),
  mutation({
    name: 'jobs.submitMany',
    summary: 'Submit many jobs in one commit (a worker submits its children this way).',
    input: z.object({ jobs: z.array(JobSubmitSchema).min(1).max(1000) }),
    output: JobBatchSchema,
    scopes: ['jobs:write'],
    errors: ['MAX_DEPTH_EXCEEDED', 'DEPENDENCY_CYCLE', 'WORKFLOW_NOT_FOUND', ...REFUSABLE],
    apply: (tx, input) => ({ jobs: input.jobs.map((job) => submitJob(tx, job)) }),
  }),
  query({
    name: 'jobs.list',
    summary: 'List jobs in creation order, filtered.',
    input: JobListSchema,
    output: JobPageSchema,
    scopes: ['jobs:read'],
    http: [
      { method: 'GET', path: '/api/jobs', tag: 'jobs', input: fromQuery },
      { method: 'GET', path: '/api/v1/tasks', tag: 'tasks', input: fromQuery },
    ],
    run: (ctx, input) =>
      cachedRead(ctx, input.cursor === undefined, `jobs.list ${JSON.stringify(input)}`, async () => {
        const page = await ctx.host.list(ctx.ws, 'job', {
          cursor: input.cursor,
          limit: input.limit,
          filter: (s) => {
            const job = jobView(s);
            return (
              (!input.status || job.status === input.status) &&
              (!input.priority || job.priority === input.priority) &&
              (!input.parentJobId || job.parentJobId === input.parentJobId) &&
              (!input.workstreamId || job.workstreamId === input.workstreamId) &&
              (!input.type || job.type === input.type)
            );
          },
        });
        return { jobs: page.items.map(jobView), nextCursor: page.nextCursor };
      }),
  }),
  query({
    name: 'jobs.get',
    summary: 'Get a job.',
    input: JobRef,
    output: JobSchema,
    scopes: ['jobs:read'],
    http: [
      { method: 'GET', path: '/api/jobs/:id', tag: 'jobs', input: idOnly('jobId') },
      { method: 'GET', path: '/api/v1/tasks/:id', tag: 'tasks', input: idOnly('jobId') },
    ],
    run: async (ctx, input) => {
      const job = await viewOrNotFound(ctx.host, ctx.ws, 'job', input.jobId, jobView);
      if (job.workflow === null) return job;
      const phase = await ctx.host.view(ctx.ws, 'phase', input.jobId);
      return { ...job, phase: phase ? phaseView(phase) : null };
    },
  }),
  mutation({
    name: 'jobs.cancel',
    summary: 'Cancel a job and its descendants.',
    input: JobRef.extend(Reason.shape),
    output: JobSchema,
    scopes: ['jobs:write'],
    errors: REFUSABLE,
    example: { reason: 'No longer needed.' },
    http: [{ method: 'POST', path: '/api/jobs/:id/cancel', tag: 'jobs', input: withId('jobId') }],
    apply: (tx, input) => cancelJob(tx, input.jobId, input.reason),
  }),
  mutation({
    name: 'jobs.update',
    summary: 'Edit title, description or priority of a job not yet RUNNING.',
    input: JobUpdateSchema,
    output: JobSchema,
    scopes: ['jobs:write'],
    errors: REFUSABLE,
    example: { priority: 'high', title: 'Add a login page (GitHub and Google)' },
    http: [{ method: 'PATCH', path: '/api/v1/tasks/:id', tag: 'tasks', input: withId('jobId') }],
    apply: (tx, input) =>
      updateJob(tx, input.jobId, {
        title: input.title,
        description: input.description,
        priority: input.priority,
      }),
  }),
] as const;
