import type { TestCaseStatus } from '../../contracts/artifacts.ts';

/** One leaf test case as a report parser reads it, before the report is summarised. */
export interface RawCase {
  /** The case's name, its suites first (`add > adds two numbers`). */
  name: string;
  /** Its own name, without the suites. */
  ownName: string;
  file?: string;
  status: TestCaseStatus;
  message?: string;
  durationMs?: number;
  /** Not inside any suite or file node: a failing top-level case named like a file is a load error. */
  topLevel: boolean;
  /** The runner says this failure is a file that did not load (not a test that failed). */
  loadError?: boolean;
}

/** What a parser answers: the cases, or why the text is not a report of its format. */
export type RawParse = { ok: true; cases: RawCase[] } | { ok: false; message: string };

/** A name that is a test file path (`tests/a.test.ts`, `/abs/x.spec.mjs`). */
export const looksLikeFile = (name: string): boolean => /^[^\s]*[\\/]?[^\s\\/]+\.[cm]?[jt]sx?$/.test(name);

/** A location (`/a/b.test.ts:8:3`, `file:///a/b.test.ts:8:3`) without its URL scheme, line and column. */
export function fileOfLocation(location: string): string {
  return location.replace(/^file:\/\//, '').replace(/(:\d+){1,2}$/, '');
}

/** Decodes the XML entities a reporter escapes names and messages with. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[e] ?? '';
  });
}
