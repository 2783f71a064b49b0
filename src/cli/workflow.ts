/** `overseer workflow validate FILE`: checks an agent_workflow.yaml and lists every problem with its position. */
import { readWorkflowFile } from '../api/workflow-file.ts';

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
  const result = readWorkflowFile(file);
  if (result.unreadable !== undefined) {
    err(`overseer: cannot read ${file}: ${result.unreadable}`);
    return 2;
  }
  if (result.content) {
    const w = result.content.workflow;
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
