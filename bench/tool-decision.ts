/**
 * The tool-policy decision (issue 17): `decideTool` — pure, with its facts gathered beforehand — over
 * `TOOL_N` calls (default 100,000) of a mix of Write, Edit, Read, Glob and Bash calls against the default TDD
 * policy; target p99 ≤ 50 µs. Reported apart, because they are the adapter's work: parsing a command line with
 * tree-sitter-bash (`TOOL_PARSE_N`, default 5,000) and gathering the file-system facts of a path
 * (`TOOL_FACTS_N`, default 20,000). Latencies are in µs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhaseToolPolicySchema } from '../src/contracts/tool-policy.ts';
import { DEFAULT_PHASE_POLICIES } from '../src/domain/tool-policy/default-policies.ts';
import {
  decideTool,
  planToolCall,
  type PathFacts,
  type ToolCall,
  type ToolFacts,
} from '../src/domain/tool-policy/decide-tool.ts';
import { pathFacts, realPathOf } from '../src/tools/facts.ts';
import { loadShellParser } from '../src/tools/shell-parser.ts';
import { percentile, progress, report, round, size, tempDir } from './lib.ts';

const N = size('TOOL_N', 100_000, 100_000);
const PARSE_N = size('TOOL_PARSE_N', 5_000, 500);
const FACTS_N = size('TOOL_FACTS_N', 20_000, 2_000);

const dir = tempDir('overseer-bench-tools-');
const root = join(dir.path, 'root');
for (const d of ['src', 'tests', '.overseer']) mkdirSync(join(root, d), { recursive: true });
for (const f of ['src/app.ts', 'tests/a.test.ts', 'package.json']) writeFileSync(join(root, f), 'x\n');

const policy = PhaseToolPolicySchema.parse(DEFAULT_PHASE_POLICIES.TDD);
const parser = await loadShellParser();
const calls: ToolCall[] = [
  { name: 'Write', input: { file_path: 'tests/new.test.ts', content: 'x' } },
  { name: 'Write', input: { file_path: 'src/app.ts', content: 'x' } },
  { name: 'Edit', input: { file_path: `${root}/tests/a.test.ts`, old_string: 'a', new_string: 'b' } },
  { name: 'Read', input: { file_path: 'src/app.ts' } },
  { name: 'Read', input: { file_path: '../outside/secret.txt' } },
  { name: 'Glob', input: { pattern: 'src/**/*.ts' } },
  { name: 'Bash', input: { command: 'npx vitest run tests/a.test.ts > tests/log.txt 2>&1' } },
  { name: 'Bash', input: { command: 'npm test && cat package.json | grep name' } },
  { name: 'Bash', input: { command: 'bash -c "npm test" || echo failed > src/x' } },
];

/** The facts of one call, gathered once (the benchmark times the decision alone). */
function factsFor(call: ToolCall): ToolFacts {
  const text = (call.input as { command?: unknown }).command;
  const command = typeof text === 'string' ? parser.parse(text) : undefined;
  const scripts = Object.fromEntries(planToolCall(call, command).scripts.map((s) => [s, parser.parse(s)]));
  const plan = planToolCall(call, command, scripts);
  const paths: Record<string, PathFacts> = {};
  for (const p of [...plan.reads, ...plan.writes]) {
    const f = pathFacts(root, p);
    if (f) paths[p] = f;
  }
  return {
    root,
    realRoot: realPathOf(root),
    protectedPaths: [realPathOf(join(root, '.overseer'))],
    paths,
    scripts,
    ...(command ? { command } : {}),
  };
}

const prepared = calls.map((tool) => ({ tool, facts: factsFor(tool) }));
const decisions = prepared.map(
  ({ tool, facts }) => decideTool({ policy, mode: 'strict', tool, facts }).decision,
);

function timeLoop(
  n: number,
  step: (i: number) => unknown,
): { p50: number; p99: number; max: number; mean: number } {
  const samples = new Float64Array(n);
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    if (step(i)) sink++;
    samples[i] = (performance.now() - s) * 1000;
  }
  const total = (performance.now() - t0) * 1000;
  if (sink < 0) throw new Error('unreachable');
  const sorted = Array.from(samples).sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50), 2),
    p99: round(percentile(sorted, 99), 2),
    max: round(sorted[sorted.length - 1]!, 1),
    mean: round(total / n, 2),
  };
}

progress(`decideTool × ${N.toLocaleString('en')} (after a warm-up)`);
const decide = (i: number) => {
  const c = prepared[i % prepared.length]!;
  return decideTool({ policy, mode: 'strict', tool: c.tool, facts: c.facts });
};
timeLoop(Math.min(N, 20_000), decide);
const decision = timeLoop(N, decide);

const commandLines = calls.flatMap((c) => {
  const t = (c.input as { command?: unknown }).command;
  return typeof t === 'string' ? [t] : [];
});
progress(`shell parse × ${PARSE_N.toLocaleString('en')}`);
timeLoop(Math.min(PARSE_N, 500), (i) => parser.parse(commandLines[i % commandLines.length]!).ok);
const parse = timeLoop(PARSE_N, (i) => parser.parse(commandLines[i % commandLines.length]!).ok);

const paths = ['tests/new.test.ts', 'src/app.ts', 'tests/a.test.ts', 'src/deep/missing/file.ts'];
progress(`path facts × ${FACTS_N.toLocaleString('en')}`);
const facts = timeLoop(FACTS_N, (i) => pathFacts(root, paths[i % paths.length]!));
dir.remove();

report({
  calls: N,
  mix: calls.map((c, i) => `${c.name}: ${decisions[i]}`),
  decisionUs: decision,
  parseUs: parse,
  factsUs: facts,
  targets: [
    { metric: 'tool decision (pure): p99', value: decision.p99, target: '≤ 50 µs', met: decision.p99 <= 50 },
  ],
});
