import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OverseerError } from '../core/errors.ts';
import { schemaDocumentProblem } from '../domain/workflow/artifact-validation.ts';
import { validateWorkflow, type WorkflowProblem } from '../domain/workflow/validate-workflow.ts';
import { workflowDigest, type BuiltinWorkflow, type WorkflowContent } from '../actors/workflow-registry.ts';

/** The `default` workflow shipped with the package (`workflows/default.yaml`, beside `src/` and `dist/`). */
export const SHIPPED_DEFAULT_WORKFLOW = fileURLToPath(
  new URL('../../workflows/default.yaml', import.meta.url),
);

/** A workflow file read and checked: its content, every problem, or why it could not be read. */
export type WorkflowFile =
  | { content: WorkflowContent; problems?: never; unreadable?: never }
  | { problems: WorkflowProblem[]; content?: never; unreadable?: never }
  | { unreadable: string; content?: never; problems?: never };

/**
 * Reads an `agent_workflow.yaml` and checks it, with each artifact schema file it names (read relative to it,
 * parsed and compiled): what `overseer workflow validate` and the node's `default` both go through.
 */
export function readWorkflowFile(file: string): WorkflowFile {
  let yaml: string;
  try {
    yaml = readFileSync(file, 'utf8');
  } catch (err) {
    return { unreadable: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  const base = dirname(resolve(file));
  const schemas: Record<string, Record<string, unknown>> = {};
  const checkSchemaFile = (path: string): string | null => {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(resolve(base, path), 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code
        ? `cannot read the schema file (${code})`
        : `not a valid JSON Schema: ${(err as Error).message}`;
    }
    const problem = schemaDocumentProblem(path, document);
    if (problem === null) schemas[path] = document as Record<string, unknown>;
    return problem;
  };
  const result = validateWorkflow(yaml, { checkSchemaFile });
  if (result.problems) return { problems: result.problems };
  return { content: { workflow: result.workflow, schemas, yaml } };
}

let shipped: BuiltinWorkflow | undefined;

/**
 * The `default` workflow of every workspace: the file the config names, else the shipped one (read once per
 * process). A file that cannot be read, has problems or is not named `default` stops the start with
 * `VALIDATION_FAILED`, listing each problem as `FILE:line:column: path: message`.
 */
export function loadDefaultWorkflow(file?: string): BuiltinWorkflow {
  if (file === undefined && shipped) return shipped;
  const path = file ?? SHIPPED_DEFAULT_WORKFLOW;
  const read = readWorkflowFile(path);
  const refuse = (problems: string[]) => {
    throw new OverseerError(
      'VALIDATION_FAILED',
      `The default workflow ${path} cannot be used: ${problems.join('; ')}.`,
      { file: path, problems },
    );
  };
  if (read.unreadable !== undefined) return refuse([`cannot read it (${read.unreadable})`]);
  if (read.problems)
    return refuse(
      read.problems.map((p) => `${path}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`),
    );
  if (read.content.workflow.name !== 'default')
    return refuse([`its name is ${read.content.workflow.name}; the default workflow is named default`]);
  const builtin = { ...read.content, digest: workflowDigest(read.content) };
  if (file === undefined) shipped = builtin;
  return builtin;
}
