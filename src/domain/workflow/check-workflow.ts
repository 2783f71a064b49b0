import { isBuiltinArtifact } from '../../contracts/artifacts.ts';
/** A problem found in a workflow, at a path into the document (`['transitions', 2, 'to']`). */
export interface PathProblem {
  path: (string | number)[];
  message: string;
}

/**
 * The parts of a workflow the semantic checks read. When the schema found problems, a partial one is checked
 * too: every value the schema refused is '' there (and skipped), so the indices stay those of the document.
 */
export interface WorkflowShape {
  initial?: string | undefined;
  phases: { id: string; final: boolean; artifacts: string[] }[];
  transitions: { from: string; to: string; artifacts: string[] }[];
  triggers: { on_enter: string }[];
  artifact_schemas: Record<string, string>;
}

/** The first phase: `initial`, or the first listed. */
export const initialPhase = (w: { initial?: string | undefined; phases: { id: string }[] }): string =>
  w.initial ?? w.phases[0]!.id;

/** The phases reachable from `start` by following `edges` (start included). */
function reachable(start: string, edges: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set([start]);
  const todo = [start];
  for (let id = todo.pop(); id !== undefined; id = todo.pop())
    for (const next of edges.get(id) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      todo.push(next);
    }
  return seen;
}

/**
 * The semantic checks the schema cannot make: duplicate or unknown phases, duplicate transitions, transitions out
 * of a final phase, no final phase, phases unreachable from the first or with no path to a final one, artifacts
 * with no schema (neither built in nor named in `artifact_schemas`), triggers on unknown phases.
 */
export function checkWorkflow(w: WorkflowShape, options: { graph?: boolean } = {}): PathProblem[] {
  const problems: PathProblem[] = [];
  const ids = new Map<string, number>();
  w.phases.forEach((p, i) => {
    if (p.id === '') return;
    if (ids.has(p.id)) problems.push({ path: ['phases', i, 'id'], message: `duplicate phase id ${p.id}` });
    else ids.set(p.id, i);
  });
  const known = (id: string) => ids.has(id);
  if (w.initial !== undefined && !known(w.initial))
    problems.push({ path: ['initial'], message: `unknown phase ${w.initial}` });

  const forward = new Map<string, string[]>();
  const backward = new Map<string, string[]>();
  const pairs = new Set<string>();
  w.transitions.forEach((t, i) => {
    for (const end of ['from', 'to'] as const)
      if (t[end] !== '' && !known(t[end]))
        problems.push({ path: ['transitions', i, end], message: `unknown phase ${t[end]}` });
    const pair = `${t.from}\u0000${t.to}`;
    if (pairs.has(pair))
      problems.push({ path: ['transitions', i], message: `duplicate transition ${t.from} → ${t.to}` });
    pairs.add(pair);
    if (w.phases.find((p) => p.id === t.from)?.final)
      problems.push({
        path: ['transitions', i, 'from'],
        message: `${t.from} is final: no transition leaves it`,
      });
    forward.set(t.from, [...(forward.get(t.from) ?? []), t.to]);
    backward.set(t.to, [...(backward.get(t.to) ?? []), t.from]);
  });

  const finals = w.phases.filter((p) => p.final).map((p) => p.id);
  if (options.graph === false || w.phases.length === 0) return [...problems, ...artifactProblems(w)];
  if (finals.length === 0) problems.push({ path: ['phases'], message: 'no phase is final (final: true)' });
  const start = initialPhase(w);
  if (known(start)) {
    const fromStart = reachable(start, forward);
    const toFinal = new Set(finals.flatMap((f) => [...reachable(f, backward)]));
    w.phases.forEach((p, i) => {
      if (ids.get(p.id) !== i) return; // a duplicate, reported above
      if (!fromStart.has(p.id))
        problems.push({
          path: ['phases', i, 'id'],
          message: `phase ${p.id} cannot be reached from ${start}`,
        });
      else if (finals.length > 0 && !toFinal.has(p.id))
        problems.push({ path: ['phases', i, 'id'], message: `no path from phase ${p.id} to a final phase` });
    });
  }

  return [...problems, ...artifactProblems(w)];
}

/** Artifacts with no schema, built-in names given a file, triggers on unknown phases. */
function artifactProblems(w: WorkflowShape): PathProblem[] {
  const problems: PathProblem[] = [];
  const known = (id: string) => w.phases.some((p) => p.id === id);
  const hasSchema = (name: string) => isBuiltinArtifact(name) || Object.hasOwn(w.artifact_schemas, name);
  const noSchema = (name: string) =>
    `artifact ${name} has no schema: it is not built in and artifact_schemas does not name a file for it`;
  w.phases.forEach((p, i) =>
    p.artifacts.forEach((a, j) => {
      if (a !== '' && !hasSchema(a))
        problems.push({ path: ['phases', i, 'artifacts', j], message: noSchema(a) });
    }),
  );
  w.transitions.forEach((t, i) =>
    t.artifacts.forEach((a, j) => {
      if (a !== '' && !hasSchema(a))
        problems.push({ path: ['transitions', i, 'artifacts', j], message: noSchema(a) });
    }),
  );
  for (const name of Object.keys(w.artifact_schemas))
    if (isBuiltinArtifact(name))
      problems.push({
        path: ['artifact_schemas', name],
        message: `${name} is a built-in artifact; give your schema another name`,
      });
  w.triggers.forEach((t, i) => {
    if (t.on_enter !== '' && !known(t.on_enter))
      problems.push({ path: ['triggers', i, 'on_enter'], message: `unknown phase ${t.on_enter}` });
  });
  return problems;
}
