import { parse as parseYaml } from 'yaml';
import type { TestCaseStatus } from '../../contracts/artifacts.ts';
import { fileOfLocation, looksLikeFile, type RawCase, type RawParse } from './raw-case.ts';

const POINT = /^(\s*)(ok|not ok)\b(?:\s+(\d+))?(?:\s*-)?\s?(.*)$/;
const SUBTEST = /^(\s*)# Subtest: (.*)$/;

interface Point {
  indent: number;
  ok: boolean;
  name: string;
  directive: 'skip' | 'todo' | null;
  /** Line ends with `{`: a buffered subtest block (vitest, node-tap) whose children follow. */
  opensBlock: boolean;
  ancestors: string[];
  diagnostics: Record<string, unknown>;
}

/** The description without TAP escapes, the `# SKIP`/`# TODO`/`# time=` directive and a trailing `{`. */
function splitDescription(text: string): {
  name: string;
  directive: Point['directive'];
  opensBlock: boolean;
} {
  let rest = text.trimEnd();
  const opensBlock = rest.endsWith('{');
  if (opensBlock) rest = rest.slice(0, -1).trimEnd();
  let directive: Point['directive'] = null;
  const hash = /(?<!\\)\s#\s*(SKIP|TODO|time=)(.*)$/i.exec(rest);
  if (hash) {
    const word = hash[1]!.toUpperCase();
    if (word === 'SKIP') directive = 'skip';
    if (word === 'TODO') directive = 'todo';
    rest = rest.slice(0, hash.index);
  }
  return { name: rest.replace(/\\#/g, '#').replace(/\\\\/g, '\\').trim(), directive, opensBlock };
}

/** Reads an indented YAML diagnostics block (`---` … `...`) starting at `lines[start]`; answers its end. */
function readDiagnostics(lines: string[], start: number): { end: number; value: Record<string, unknown> } {
  const open = lines[start];
  if (open === undefined || !/^\s*---\s*$/.test(open)) return { end: start, value: {} };
  const indent = open.length - open.trimStart().length;
  const body: string[] = [];
  let i = start + 1;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*\.\.\.\s*$/.test(line)) break;
    body.push(line.slice(Math.min(indent, line.length - line.trimStart().length)));
  }
  try {
    const value: unknown = parseYaml(body.join('\n'));
    return {
      end: i + 1,
      value: value && typeof value === 'object' ? (value as Record<string, unknown>) : {},
    };
  } catch {
    return { end: i + 1, value: {} };
  }
}

function message(diag: Record<string, unknown>): string | undefined {
  const error = diag['error'];
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') {
    const m = (error as Record<string, unknown>)['message'];
    if (typeof m === 'string') return m;
  }
  return undefined;
}

/**
 * TAP 13/14, as `node --test --test-reporter=tap` (subtests indented before their parent's point) and vitest's
 * `tap` reporter (buffered `{ … }` blocks) and `tap-flat` print it. Leaves are the cases; a point with subtests is
 * a suite. `Bail out!` is a load error.
 */
export function parseTap(text: string): RawParse {
  const lines = text.split(/\r?\n/);
  if (!lines.some((l) => POINT.test(l) || /^\s*1\.\.\d+/.test(l) || /^TAP version/.test(l)))
    return { ok: false, message: 'no TAP version line, plan or test point' };
  const points: Point[] = [];
  const subtests: { indent: number; name: string }[] = [];
  const blocks: { indent: number; name: string }[] = [];
  let bail: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const sub = SUBTEST.exec(line);
    if (sub) {
      const indent = sub[1]!.length;
      while (subtests.length && subtests[subtests.length - 1]!.indent >= indent) subtests.pop();
      subtests.push({ indent, name: sub[2]!.trim() });
      continue;
    }
    if (/^\s*}\s*$/.test(line)) {
      blocks.pop();
      continue;
    }
    const bailed = /^\s*Bail out!\s*(.*)$/.exec(line);
    if (bailed) {
      bail = bailed[1] || 'Bail out!';
      continue;
    }
    const m = POINT.exec(line);
    if (!m) continue;
    const indent = m[1]!.length;
    const { name, directive, opensBlock } = splitDescription(m[4] ?? '');
    const ancestors = [
      ...subtests.filter((s) => s.indent < indent).map((s) => s.name),
      ...blocks.filter((b) => b.indent < indent).map((b) => b.name),
    ];
    const diag = readDiagnostics(lines, i + 1);
    if (diag.end > i + 1) i = diag.end - 1;
    points.push({
      indent,
      ok: m[2] === 'ok',
      name,
      directive,
      opensBlock,
      ancestors,
      diagnostics: diag.value,
    });
    if (opensBlock) blocks.push({ indent, name });
  }
  if (bail !== null) return { ok: true, cases: [bailCase(bail)] };
  const braces = points.some((p) => p.opensBlock);
  const top = Math.min(...points.map((p) => p.indent));
  const cases: RawCase[] = [];
  points.forEach((p, index) => {
    const previous = points[index - 1];
    const isSuite = braces ? p.opensBlock : previous !== undefined && previous.indent > p.indent;
    if (isSuite) return;
    const status: TestCaseStatus =
      p.directive === 'skip' ? 'skipped' : p.directive === 'todo' ? 'todo' : p.ok ? 'passed' : 'failed';
    const location = p.diagnostics['location'] ?? p.diagnostics['at'];
    const fileAncestor = p.ancestors.find(looksLikeFile);
    // tap-flat prefixes each name with its file: `tests/a.test.ts > suite > case`.
    const flatFile = p.name.split(' > ')[0];
    const named =
      fileAncestor ?? (flatFile !== p.name && flatFile && looksLikeFile(flatFile) ? flatFile : undefined);
    const file = typeof location === 'string' ? fileOfLocation(location) : named;
    const msg = status === 'failed' ? message(p.diagnostics) : undefined;
    const duration = p.diagnostics['duration_ms'];
    const c: RawCase = {
      name: [...p.ancestors.filter((a) => a !== fileAncestor), p.name].join(' > '),
      ownName: p.name,
      status,
      topLevel: p.indent === top && p.ancestors.length === 0,
    };
    if (file !== undefined) c.file = file;
    if (msg !== undefined) c.message = msg;
    if (typeof duration === 'number') c.durationMs = duration;
    // node --test reports a file whose process failed outside any test with the file's exit code.
    if (status === 'failed' && p.diagnostics['exitCode'] !== undefined && looksLikeFile(p.name))
      c.loadError = true;
    cases.push(c);
  });
  return { ok: true, cases };
}

function bailCase(reason: string): RawCase {
  return {
    name: 'Bail out!',
    ownName: 'Bail out!',
    status: 'failed',
    message: reason,
    topLevel: true,
    loadError: true,
  };
}
