import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { WorkflowSchema, type Workflow } from '../../contracts/workflow.ts';
import { checkWorkflow, type PathProblem, type WorkflowShape } from './check-workflow.ts';
import { formatPath } from './format-path.ts';

/** One problem of a workflow file, where it is (1-based line and column) and at which path. */
export interface WorkflowProblem {
  line: number;
  column: number;
  /** `transitions[2].to`; empty for the document itself. */
  path: string;
  message: string;
}

/** A valid workflow, or every problem found. */
export type WorkflowValidation =
  { workflow: Workflow; problems?: never } | { workflow?: never; problems: WorkflowProblem[] };

/** What `validateWorkflow` can check besides the text, through a function the caller supplies. */
export interface ValidateWorkflowOptions {
  /** Checks a file named in `artifact_schemas` (read and compiled by the caller): an error message, or null. */
  checkSchemaFile?: (path: string) => string | null;
}

/** The offset of the deepest node on `path` (with `atKey`, of the last map key itself rather than its value). */
function offsetOf(doc: Document, path: readonly PropertyKey[], atKey = false): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (const [depth, segment] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === segment);
      if (!pair) break;
      const key = pair.key as Node;
      const value = pair.value as Node | null;
      const last = depth === path.length - 1;
      offset = (atKey && last ? key.range?.[0] : value?.range?.[0]) ?? key.range?.[0] ?? offset;
      node = value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}

/** A problem at a path into the document; `atKey`: it is about the key itself (an unknown key). */
interface RawProblem extends PathProblem {
  atKey?: boolean;
}

/** The schema, then the semantic checks, on a parsed document: the workflow, or every problem by path. */
function check(
  raw: unknown,
  options: ValidateWorkflowOptions,
): { workflow: Workflow; problems?: never } | { workflow?: never; problems: RawProblem[] } {
  const parsed = WorkflowSchema.safeParse(raw);
  if (!parsed.success) {
    const problems: RawProblem[] = parsed.error.issues.map((issue) => {
      const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
      // An unknown key: point at the key itself.
      if (issue.code === 'unrecognized_keys') {
        const key = issue.keys[0];
        return { path: key === undefined ? path : [...path, key], message: issue.message, atKey: true };
      }
      return { path, message: issue.message };
    });
    // The semantic checks that do not need a whole graph still run on what the schema accepted.
    const seen = new Set(problems.map((p) => `${formatPath(p.path)}\u0000${p.message}`));
    for (const p of checkWorkflow(shapeOf(raw), { graph: false }))
      if (!seen.has(`${formatPath(p.path)}\u0000${p.message}`)) problems.push(p);
    return { problems };
  }
  const found = checkWorkflow(parsed.data);
  if (options.checkSchemaFile)
    for (const [name, file] of Object.entries(parsed.data.artifact_schemas)) {
      const error = options.checkSchemaFile(file);
      if (error !== null) found.push({ path: ['artifact_schemas', name], message: `${file}: ${error}` });
    }
  return found.length > 0 ? { problems: found } : { workflow: parsed.data };
}

/**
 * Parses and checks an `agent_workflow.yaml`: YAML syntax, the schema (`contracts/workflow.ts`), then the semantic
 * checks of `checkWorkflow`. Answers the workflow, or every problem with its line, column and path. Pure.
 */
export function validateWorkflow(
  yamlText: string,
  options: ValidateWorkflowOptions = {},
): WorkflowValidation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0)
    return {
      problems: doc.errors.map((e) => {
        const { line, col } = at(e.pos[0]);
        return { line, column: col, path: '', message: e.message.split('\n')[0]! };
      }),
    };
  const result = check(doc.toJS(), options);
  if (result.workflow) return { workflow: result.workflow };
  return {
    problems: sortProblems(
      result.problems.map((p) => {
        const { line, col } = at(offsetOf(doc, p.path, p.atKey));
        return { line, column: col, path: formatPath(p.path), message: p.message };
      }),
    ),
  };
}

/** One problem of a workflow given as JSON: where it is (`transitions[2].to`) and what is wrong. */
export interface WorkflowValueProblem {
  path: string;
  message: string;
}

/**
 * Checks a workflow given as a value (JSON) rather than as YAML text: the same schema and semantic checks as
 * {@link validateWorkflow}, each problem with its path. Pure.
 */
export function validateWorkflowValue(
  value: unknown,
  options: ValidateWorkflowOptions = {},
): { workflow: Workflow; problems?: never } | { workflow?: never; problems: WorkflowValueProblem[] } {
  const result = check(value, options);
  if (result.workflow) return { workflow: result.workflow };
  return { problems: result.problems.map((p) => ({ path: formatPath(p.path), message: p.message })) };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** What the semantic checks can read of a document the schema refused ('' where a value is unusable). */
function shapeOf(raw: unknown): WorkflowShape {
  const w = obj(raw);
  const schemas = Object.fromEntries(Object.entries(obj(w['artifact_schemas'])).map(([k, v]) => [k, str(v)]));
  return {
    ...(typeof w['initial'] === 'string' ? { initial: w['initial'] } : {}),
    phases: list(w['phases']).map((p) => ({
      id: str(obj(p)['id']),
      final: obj(p)['final'] === true,
      artifacts: list(obj(p)['artifacts']).map(str),
    })),
    transitions: list(w['transitions']).map((t) => ({
      from: str(obj(t)['from']),
      to: str(obj(t)['to']),
      artifacts: list(obj(t)['artifacts']).map(str),
    })),
    triggers: list(w['triggers']).map((t) => ({ on_enter: str(obj(t)['on_enter']) })),
    artifact_schemas: schemas,
  };
}

const sortProblems = (ps: WorkflowProblem[]) => ps.sort((a, b) => a.line - b.line || a.column - b.column);
