// The trusted executor (issue 16, verified evidence): tree hashes, sandboxed commands and test runs the node makes
// itself. See docs/security.md for what it guarantees and what it cannot.
export { treeHash, changedFiles } from './tree-hash.ts';
export type { GitTreeOptions } from './isolated-git.ts';
export { runCommand } from './run-command.ts';
export type { RunCommandOptions, CommandResult } from './run-command.ts';
export { verifyTests } from './verify-tests.ts';
export type { VerifyTestsOptions, TestEvidence, ExecutorIdentity } from './verify-tests.ts';
export { resolveWorkdir, workdirRefusal, WorkdirRefusal } from './workdir.ts';
export type { WorkdirFacts } from './workdir.ts';
export { scrubbedEnv } from './scrubbed-env.ts';
