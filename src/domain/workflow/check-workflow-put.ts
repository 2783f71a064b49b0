import { OverseerError } from '../../core/errors.ts';
import type { Workflow } from '../../contracts/workflow.ts';
import type { WorkflowPut } from '../../contracts/workflow-registry.ts';
import { schemaDocumentProblem } from './artifact-validation.ts';
import { validateWorkflow, validateWorkflowValue } from './validate-workflow.ts';

/** A workflow a put may register: checked, with the schema files it names and its text. */
export interface CheckedWorkflow {
  workflow: Workflow;
  schemas: Record<string, Record<string, unknown>>;
  yaml: string | null;
}

/** One problem of a put: where (a path into the workflow; line and column when it came as YAML) and what. */
interface PutProblem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * Checks what `workflows.put` received, as `overseer workflow validate` checks a file: the YAML text (problems
 * with line and column) or the JSON value (problems with their path), and each file `artifact_schemas` names,
 * which must come in `schemas` as its JSON Schema document (the node reads no file a caller names). Answers the
 * workflow, or throws `VALIDATION_FAILED` listing every problem in `details.issues`. Pure.
 */
export function checkWorkflowPut(input: WorkflowPut): CheckedWorkflow {
  const checkSchemaFile = (file: string): string | null =>
    Object.hasOwn(input.schemas, file)
      ? schemaDocumentProblem(file, input.schemas[file])
      : `not sent: give its JSON Schema document in schemas["${file}"]`;
  const result =
    input.yaml !== undefined
      ? validateWorkflow(input.yaml, { checkSchemaFile })
      : validateWorkflowValue(input.workflow, { checkSchemaFile });
  const problems: PutProblem[] = result.problems ? [...result.problems] : [];
  if (result.workflow) {
    const named = new Set(Object.values(result.workflow.artifact_schemas));
    for (const file of Object.keys(input.schemas))
      if (!named.has(file))
        problems.push({ path: `schemas["${file}"]`, message: 'artifact_schemas names no such file' });
  }
  if (problems.length > 0 || !result.workflow) {
    const source = input.yaml !== undefined ? 'yaml' : 'workflow';
    const where = (p: PutProblem) =>
      [p.line !== undefined ? `${p.line}:${p.column}` : '', p.path].filter(Boolean).join(' ');
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Invalid workflow (${problems.length} problem(s)): ${problems
        .map((p) => `${where(p) || '(root)'}: ${p.message}`)
        .join('; ')}.`,
      { source, issues: problems },
    );
  }
  return { workflow: result.workflow, schemas: input.schemas, yaml: input.yaml ?? null };
}
