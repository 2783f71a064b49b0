import type { TestCaseStatus } from '../../contracts/artifacts.ts';
import { looksLikeFile, type RawCase, type RawParse } from './raw-case.ts';

const MARK = /^(\s*)(✔|✖|﹣|-)\s(.*?)(?:\s\(([\d.]+)ms\))?(?:\s#\s(SKIP|TODO)\b.*)?$/u;
const SUITE = /^(\s*)▶\s(.*)$/u;
const SUMMARY = /^ℹ\s(tests|pass|fail|cancelled|skipped|todo)\s(\d+)\s*$/u;

/**
 * The spec reporter of `node --test` (Node 20: `▶ suite`, `✔ pass`, `✖ fail`, `﹣ skip`, `# TODO`, then `ℹ`
 * counts and a `✖ failing tests:` section naming each failure's file). A suite's closing line is not a case.
 * The text must end with the `ℹ tests N` summary, and N must equal the cases read; otherwise it is not parseable.
 */
export function parseNodeSpec(text: string): RawParse {
  const lines = text.split(/\r?\n/);
  const failingAt = lines.findIndex((l) => /^✖ failing tests:\s*$/u.test(l));
  const body = failingAt >= 0 ? lines.slice(0, failingAt) : lines;
  const summary: Record<string, number> = {};
  for (const l of body) {
    const s = SUMMARY.exec(l);
    if (s) summary[s[1]!] = Number(s[2]);
  }
  if (summary['tests'] === undefined) return { ok: false, message: 'no "ℹ tests N" summary line' };

  const suites: { indent: number; name: string }[] = [];
  const cases: RawCase[] = [];
  let last: RawCase | null = null;
  for (const line of body) {
    const suite = SUITE.exec(line);
    if (suite) {
      suites.push({ indent: suite[1]!.length, name: suite[2]!.trim() });
      last = null;
      continue;
    }
    const m = MARK.exec(line);
    if (!m) {
      // The first text line under a failure is its message.
      if (
        last &&
        last.status === 'failed' &&
        last.message === undefined &&
        line.trim() &&
        !SUMMARY.test(line)
      )
        last.message = line.trim().replace(/^'(.*)'$/, '$1');
      continue;
    }
    const indent = m[1]!.length;
    const name = m[3]!.trim();
    const open = suites[suites.length - 1];
    if (open && open.indent === indent && open.name === name) {
      suites.pop();
      last = null;
      continue;
    }
    const status: TestCaseStatus =
      m[5] === 'SKIP' || m[2] === '﹣' || m[2] === '-'
        ? 'skipped'
        : m[5] === 'TODO'
          ? 'todo'
          : m[2] === '✔'
            ? 'passed'
            : 'failed';
    const ancestors = suites.filter((s) => s.indent < indent).map((s) => s.name);
    const c: RawCase = {
      name: [...ancestors, name].join(' > '),
      ownName: name,
      status,
      topLevel: indent === 0,
    };
    if (m[4] !== undefined) c.durationMs = Number(m[4]);
    if (status === 'failed' && looksLikeFile(name) && indent === 0) c.file = name;
    cases.push(c);
    last = c;
  }
  if (cases.length !== summary['tests'])
    return {
      ok: false,
      message: `the summary counts ${summary['tests']} tests, the report shows ${cases.length}`,
    };

  // `test at tests/a.test.mjs:8:3` then `✖ name (…)`: the file of each failure.
  if (failingAt >= 0) {
    const tail = lines.slice(failingAt + 1);
    tail.forEach((l, i) => {
      const at = /^test at (.+?)(?::\d+){1,2}\s*$/.exec(l);
      const next = tail[i + 1] !== undefined ? MARK.exec(tail[i + 1]!) : null;
      if (!at || !next) return;
      const name = next[3]!.trim();
      const target = cases.find((c) => c.status === 'failed' && c.ownName === name && c.file === undefined);
      if (target) target.file = at[1]!;
    });
  }
  return { ok: true, cases };
}
