import { z } from 'zod';
import { WorkflowNameSchema, WorkflowSchema } from './workflow.ts';

// The workflow registry (issue 16): versions of `agent_workflow.yaml` registered per workspace, and how a job names
// the one it follows.

/** The largest workflow version (a job names it in `name@version`). */
export const MAX_WORKFLOW_VERSION = 999_999_999;

/** How a job names its workflow: `<name>` (the newest version) or `<name>@<version>`. */
export const WorkflowRefSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}(@[1-9][0-9]{0,8})?$/,
    'a workflow is named "<name>" or "<name>@<version>" (a name matches ^[a-z0-9][a-z0-9_-]{0,62}$, a version is an integer ≥ 1)',
  )
  .meta({ id: 'WorkflowRef', description: '`<name>` (its newest version) or `<name>@<version>`.' });

/** A reference split into its name and, if given, its version. */
export function parseWorkflowRef(ref: string): { name: string; version?: number } {
  const at = ref.indexOf('@');
  return at < 0 ? { name: ref } : { name: ref.slice(0, at), version: Number(ref.slice(at + 1)) };
}

/** One version of one workflow: what a job follows, resolved at submit and kept for the job's life. */
export const WorkflowIdSchema = z
  .object({ name: z.string(), version: z.number().int() })
  .meta({ id: 'WorkflowId', description: 'A workflow version: what a job follows for its whole life.' });
export type WorkflowId = z.infer<typeof WorkflowIdSchema>;

/** Where a registered version comes from: shipped with the node (`default`), or put in this workspace. */
export const WorkflowSourceSchema = z.enum(['builtin', 'workspace']).meta({ id: 'WorkflowSource' });
export type WorkflowSource = z.infer<typeof WorkflowSourceSchema>;

/** The JSON Schema documents of a workflow's own artifacts, by the path `artifact_schemas` names. */
export const ArtifactSchemaFilesSchema = z
  .record(z.string().min(1).max(1_024), z.record(z.string(), z.unknown()))
  .meta({
    id: 'ArtifactSchemaFiles',
    description: 'Each file `artifact_schemas` names, as its JSON Schema document, keyed by that path.',
  });

/** A registered workflow version: the checked workflow, its digest, and who put it when. */
export const RegisteredWorkflowSchema = z
  .object({
    workspaceId: z.string(),
    name: z.string(),
    version: z.number().int(),
    /** SHA-256 (hex) of the canonical JSON of `{ workflow, schemas }`: equal digests, equal content. */
    digest: z.string(),
    source: WorkflowSourceSchema,
    /** The subject that put it (null for the shipped `default` not yet used by a job of the workspace). */
    putBy: z.string().nullable(),
    putAt: z.number().nullable(),
    workflow: WorkflowSchema,
    schemas: ArtifactSchemaFilesSchema,
    /** The YAML text as first put (null when it was put as JSON). */
    yaml: z.string().nullable(),
  })
  .meta({ id: 'RegisteredWorkflow', description: 'One version of a workflow registered in a workspace.' });
export type RegisteredWorkflow = z.infer<typeof RegisteredWorkflowSchema>;

/** The largest YAML text a put takes (the HTTP body limit is 512 KiB). */
const MAX_YAML = 512 * 1024;

/** What `workflows.put` takes: the file's text, or the workflow as JSON; and the artifact schema files it names. */
export const WorkflowPutSchema = z
  .object({
    yaml: z
      .string()
      .min(1)
      .max(MAX_YAML)
      .optional()
      .describe('The text of an agent_workflow.yaml (problems are reported with their line and column).'),
    workflow: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('The workflow as JSON (problems are reported with their path).'),
    schemas: ArtifactSchemaFilesSchema.default({}),
  })
  .strict()
  .refine((p) => (p.yaml === undefined) !== (p.workflow === undefined), {
    message: 'give the workflow either as `yaml` (its text) or as `workflow` (JSON), not both',
  })
  .meta({ id: 'WorkflowPut' });
export type WorkflowPutInput = z.input<typeof WorkflowPutSchema>;
export type WorkflowPut = z.output<typeof WorkflowPutSchema>;

/** What `workflows.get` takes: a name, and a version (default: the newest). */
export const WorkflowGetSchema = z
  .object({
    name: WorkflowNameSchema,
    version: z.coerce.number().int().min(1).max(MAX_WORKFLOW_VERSION).optional(),
  })
  .strict()
  .meta({ id: 'WorkflowGet' });

/** One workflow of a workspace in a listing. */
export const WorkflowSummarySchema = z
  .object({
    name: z.string(),
    /** Every registered version, oldest first. */
    versions: z.array(z.number().int()),
    latest: z.number().int(),
    /** The newest version's description. */
    description: z.string(),
  })
  .meta({ id: 'WorkflowSummary' });

/** What `workflows.list` answers: every workflow of the workspace, by name. */
export const WorkflowListAnswerSchema = z
  .object({ workflows: z.array(WorkflowSummarySchema) })
  .meta({ id: 'WorkflowList', description: 'The workflows of the workspace by name, with their versions.' });
export type WorkflowListAnswer = z.infer<typeof WorkflowListAnswerSchema>;
