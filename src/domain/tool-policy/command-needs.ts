import type { ShParse } from './shell-ast.ts';

/** One program the command line runs, after wrappers (`env`, `nice`, `xargs`, `find -exec`) are taken off. */
export interface Invocation {
  /** Its words (all static). */
  words: string[];
  /** Whether more arguments follow that the command line does not show (`xargs`, `find -exec … {} +`). */
  extraArgs: boolean;
  /** Whether it reaches the network (curl, wget, package installs). */
  network: boolean;
}

/** What a command line needs the policy to allow: programs to run, paths to read and to write. */
export interface CommandNeeds {
  invocations: Invocation[];
  reads: string[];
  writes: string[];
  /** `sh -c` scripts that must be parsed (by the adapter) and allowed in turn. */
  scripts: string[];
}

/** Scripts found behind `sh -c`, parsed by the adapter, keyed by their text. */
export type ParsedScripts = Readonly<Record<string, ShParse>>;
