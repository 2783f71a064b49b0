/** `overseer workflow validate FILE`: checks an agent_workflow.yaml and lists every problem with its position. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { compileArtifactSchema } from '../domain/workflow/artifact-validation.ts';
import { validateWorkflow } from '../domain/workflow/validate-workflow.ts';

/** Reads and compiles a workflow's own artifact schema file: an error message, or null when it is usable. */
function checkSchemaFile(base: string, file: string): string | null {
  let text: string;
  try {
    text = readFileSync(resolve(base, file), 'utf8');
  } catch (err) {
    return `cannot read the schema file (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  try {
    const schema: unknown = JSON.parse(text);
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
      return 'a JSON Schema is an object';
    compileArtifactSchema(file, schema);
    return null;
  } catch (err) {
    return `not a valid JSON Schema: ${(err as Error).message}`;
  }
}

/**
 * Runs `overseer workflow <sub> ARGS`; answers the exit code: 0 valid, 1 problems (one `FILE:line:col: message`
 * line each), 2 usage or an unreadable file.
 */
export function runWorkflow(
  sub: string | undefined,
  args: string[],
  out: (line: string) => void,
  err: (line: string) => void,
): number {
  const file = args[0];
  if (sub !== 'validate' || file === undefined) {
    err('usage: overseer workflow validate FILE');
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    err(`overseer: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return 2;
  }
  const base = dirname(resolve(file));
  const result = validateWorkflow(text, { checkSchemaFile: (path) => checkSchemaFile(base, path) });
  if (result.workflow) {
    const w = result.workflow;
    out(
      `${file}: valid (workflow ${w.name} v${w.version}, ${w.phases.length} phases, ${w.transitions.length} transitions)`,
    );
    return 0;
  }
  for (const p of result.problems)
    out(`${file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
  err(`${file}: ${result.problems.length} problem(s)`);
  return 1;
}
