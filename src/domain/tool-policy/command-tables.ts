/**
 * The command tables of the tool policy: which command names the analysis treats specially. A name is matched
 * on the last segment of the command word (`/usr/bin/rm` is `rm`); see docs/tools.md for the reasons.
 */

/** Builtins that run text as code, change what later words mean, or change the directory paths are judged in. */
export const ALWAYS_DENIED: ReadonlySet<string> = new Set([
  'eval',
  'source',
  '.',
  'exec',
  'alias',
  'unalias',
  'builtin',
  'enable',
  'trap',
  'cd',
  'pushd',
  'popd',
  'hash',
  'shopt',
  'coproc',
  'function',
]);

/** Commands that run another command as someone else or elsewhere. */
export const PRIVILEGE: ReadonlySet<string> = new Set([
  'sudo',
  'su',
  'doas',
  'pkexec',
  'chroot',
  'unshare',
  'nsenter',
  'runuser',
  'setpriv',
]);

/** Shells: `-c SCRIPT` runs SCRIPT, which must itself be allowed. */
export const SHELLS: ReadonlySet<string> = new Set([
  'sh',
  'bash',
  'zsh',
  'dash',
  'ksh',
  'mksh',
  'ash',
  'fish',
  'busybox',
]);

/** Interpreters and the short option letters / long options that run inline code or edit files in place. */
export const INTERPRETERS: ReadonlyMap<string, { short: string; long: readonly string[] }> = new Map([
  ['python', { short: 'c', long: [] }],
  ['node', { short: 'ep', long: ['--eval', '--print'] }],
  ['nodejs', { short: 'ep', long: ['--eval', '--print'] }],
  ['bun', { short: 'e', long: ['--eval', '--print'] }],
  ['deno', { short: '', long: [] }],
  ['perl', { short: 'eEi', long: [] }],
  ['ruby', { short: 'ei', long: [] }],
  ['php', { short: 'r', long: [] }],
  ['lua', { short: 'e', long: [] }],
  ['Rscript', { short: 'e', long: [] }],
  ['osascript', { short: 'e', long: [] }],
  ['tclsh', { short: '', long: [] }],
]);

/** Languages whose whole first argument is a program (awk's `system()`, `print > file`): always denied. */
export const PROGRAM_LANGUAGES: ReadonlySet<string> = new Set(['awk', 'gawk', 'mawk', 'nawk']);

/** Commands that write or remove the files they are given. */
export const WRITERS: ReadonlySet<string> = new Set([
  'tee',
  'cp',
  'mv',
  'ln',
  'install',
  'dd',
  'rm',
  'rmdir',
  'touch',
  'mkdir',
  'truncate',
  'chmod',
  'chown',
  'chgrp',
  'shred',
  'unlink',
  'mkfifo',
  'mknod',
]);

/** Writers whose targets the command line does not name (they come from a patch or an archive): denied. */
export const OPAQUE_WRITERS: ReadonlySet<string> = new Set(['patch', 'tar', 'unzip', 'cpio', 'rsync']);

/** `git` subcommands that rewrite the working tree or the repository's configuration: always denied. */
export const GIT_WRITERS: ReadonlySet<string> = new Set([
  'apply',
  'checkout',
  'restore',
  'reset',
  'clean',
  'stash',
  'am',
  'switch',
  'merge',
  'rebase',
  'pull',
  'cherry-pick',
  'revert',
  'mv',
  'rm',
  'worktree',
  'submodule',
  'filter-branch',
  'config',
  'update-index',
  'read-tree',
  'checkout-index',
]);

/** Commands that reach the network. */
export const NETWORK: ReadonlySet<string> = new Set([
  'curl',
  'wget',
  'nc',
  'ncat',
  'netcat',
  'ssh',
  'scp',
  'sftp',
  'ftp',
  'telnet',
  'socat',
  'aria2c',
  'apt',
  'apt-get',
  'brew',
]);

/** Package managers and the subcommands that download packages (a network use). */
export const PACKAGE_INSTALLS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  [
    'npm',
    new Set([
      'install',
      'i',
      'ci',
      'add',
      'update',
      'up',
      'upgrade',
      'exec',
      'x',
      'publish',
      'isntall',
      'in',
    ]),
  ],
  ['pnpm', new Set(['install', 'i', 'add', 'update', 'up', 'dlx', 'exec'])],
  ['yarn', new Set(['', 'install', 'add', 'up', 'upgrade', 'dlx'])],
  ['bun', new Set(['install', 'i', 'add', 'update', 'x'])],
  ['pip', new Set(['install', 'download'])],
  ['pip3', new Set(['install', 'download'])],
  ['pipx', new Set(['install', 'run'])],
  ['uv', new Set(['add', 'sync', 'pip', 'tool', 'run'])],
  ['poetry', new Set(['add', 'install', 'update'])],
  ['gem', new Set(['install', 'update'])],
  ['cargo', new Set(['install', 'add', 'fetch', 'update'])],
  ['go', new Set(['get', 'install', 'mod'])],
]);

/** Wrappers that run the rest of their words as a command (after their own options). */
export const WRAPPERS: ReadonlyMap<string, { valued: readonly string[]; leading: number }> = new Map([
  ['command', { valued: [], leading: 0 }],
  ['nice', { valued: ['-n', '--adjustment'], leading: 0 }],
  ['nohup', { valued: [], leading: 0 }],
  ['time', { valued: ['-f', '-o', '--format', '--output'], leading: 0 }],
  ['timeout', { valued: ['-s', '-k', '--signal', '--kill-after'], leading: 1 }],
  ['stdbuf', { valued: ['-i', '-o', '-e'], leading: 0 }],
  ['setsid', { valued: [], leading: 0 }],
]);

/**
 * Variables that change which program runs or what it loads (`PATH=/tmp/x npm test`): assigning them is denied.
 * Names starting with one of `RISKY_PREFIXES` are denied too.
 */
export const RISKY_VARIABLES: ReadonlySet<string> = new Set([
  'PATH',
  'IFS',
  'ENV',
  'BASH_ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'CDPATH',
  'GLOBIGNORE',
  'HOME',
  'SHELL',
  'EDITOR',
  'VISUAL',
  'PAGER',
]);

/** Prefixes of variable names that steer loaders, runtimes or tools (`LD_PRELOAD`, `NODE_OPTIONS`, `GIT_…`). */
export const RISKY_PREFIXES: readonly string[] = [
  'LD_',
  'DYLD_',
  'NODE_',
  'NPM_CONFIG_',
  'npm_config_',
  'PYTHON',
  'PERL',
  'RUBY',
  'GIT_',
  'BASH_FUNC_',
  'VITEST',
  'JEST',
];

/** Files a redirection or reader may name outside the job's root because they hold nothing. */
export const HARMLESS_DEVICES: ReadonlySet<string> = new Set([
  '/dev/null',
  '/dev/stdout',
  '/dev/stderr',
  '/dev/stdin',
]);
