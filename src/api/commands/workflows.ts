import { OverseerError } from '../../core/errors.ts';
import {
  RegisteredWorkflowSchema,
  WorkflowGetSchema,
  WorkflowListAnswerSchema,
  WorkflowPutSchema,
  type RegisteredWorkflow,
} from '../../contracts/workflow-registry.ts';
import { putWorkflow } from '../../actors/services/workflows.ts';
import { mutation, query, type CommandContext } from '../command.ts';
import { body, none, type RouteRequest, query as fromQuery } from '../route-input.ts';
import { Empty } from './refs.ts';

/** An example workflow file of the documentation. */
export const EXAMPLE_WORKFLOW_YAML = `name: quick
version: 1
description: Plan with acceptance criteria, then build until every test passes.
phases:
  - id: PLAN
    artifacts: [plan]
  - id: BUILD
    artifacts: [implementation]
  - id: DONE
    final: true
transitions:
  - from: PLAN
    to: BUILD
    gates: [plan_has_acceptance_criteria]
  - from: BUILD
    to: DONE
    gates: [all_tests_pass]
`;

/** The path's `:id` is the workflow's name; `?version=` picks a version. */
const nameAndVersion = (req: RouteRequest) => ({ ...fromQuery(req), name: req.params['id'] });

/** Library callers get an answer of their own (the registry's objects are shared with its memory). */
const own = (ctx: CommandContext, w: RegisteredWorkflow): RegisteredWorkflow =>
  ctx.sharedReads ? w : structuredClone(w);

/** The workflows service: versions of `agent_workflow.yaml` registered per workspace (admin only). */
export const workflowCommands = [
  mutation({
    name: 'workflows.put',
    summary:
      'Register a workflow version (its YAML text, or JSON); a version never changes once put, the same content answers it again.',
    input: WorkflowPutSchema,
    output: RegisteredWorkflowSchema,
    scopes: ['workflows:admin'],
    errors: ['ALREADY_EXISTS'],
    example: { yaml: EXAMPLE_WORKFLOW_YAML },
    http: [{ method: 'POST', path: '/api/v1/workflows', status: 201, tag: 'workflows', input: body }],
    // The registry keeps the version it answers: the caller and the idempotency record get a copy.
    apply: (tx, input) => structuredClone(putWorkflow(tx, input)),
  }),
  query({
    name: 'workflows.list',
    summary: 'The workflows of the workspace by name, with their versions (the shipped default included).',
    input: Empty,
    output: WorkflowListAnswerSchema,
    scopes: ['workflows:admin'],
    http: [{ method: 'GET', path: '/api/v1/workflows', tag: 'workflows', input: none }],
    run: async (ctx) => {
      await ctx.host.settled();
      return { workflows: ctx.host.env.workflows.list(ctx.ws) };
    },
  }),
  query({
    name: 'workflows.get',
    summary: 'A workflow version: the one named, or the newest.',
    input: WorkflowGetSchema,
    output: RegisteredWorkflowSchema,
    scopes: ['workflows:admin'],
    errors: ['WORKFLOW_NOT_FOUND'],
    http: [{ method: 'GET', path: '/api/v1/workflows/:id', tag: 'workflows', input: nameAndVersion }],
    run: async (ctx, input) => {
      await ctx.host.settled();
      const found = ctx.host.env.workflows.find(ctx.ws, input.name, input.version);
      if (!found) {
        const which = input.version === undefined ? input.name : `${input.name}@${input.version}`;
        throw new OverseerError('WORKFLOW_NOT_FOUND', `No workflow ${which} in workspace ${ctx.ws}.`, {
          name: input.name,
          ...(input.version !== undefined ? { version: input.version } : {}),
        });
      }
      return own(ctx, found);
    },
  }),
] as const;
