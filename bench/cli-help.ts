/**
 * How fast the command starts, as a user meets it: packs the package (`npm pack`, which builds dist/), installs the
 * tarball in a new project, then times `node_modules/.bin/overseer --help` and `node -e 0` in turn, `CLI_HELP_RUNS`
 * pairs, whole process from spawn to exit. The ratio is taken pair by pair, so a machine whose speed drifts during the
 * run moves both sides. For comparison it also times this checkout's `bin/overseer.js --help` (the source through
 * tsx, `CLI_HELP_SOURCE_RUNS` runs). Target: the installed help within 2× bare node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progress, report, round, size, spread, tempDir } from './lib.ts';

const RUNS = size('CLI_HELP_RUNS', 30, 5);
const SOURCE_RUNS = size('CLI_HELP_SOURCE_RUNS', 5, 2);
const checkout = fileURLToPath(new URL('..', import.meta.url));

/** Wall milliseconds of one run of `node ...args` in `cwd`, which must exit 0. */
function time(args: string[], cwd: string): number {
  const t0 = performance.now();
  const run = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${String(run.status)}`);
  return ms;
}

const work = tempDir('overseer-bench-cli-');
try {
  progress('cli-help: npm pack (builds dist/) and install the tarball');
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work.path], {
    cwd: checkout,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .at(-1)!;
  const app = join(work.path, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  execFileSync(
    'npm',
    ['install', join(work.path, tarball), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: app, stdio: 'ignore' },
  );

  const help = ['node_modules/.bin/overseer', '--help'];
  time(help, app);
  time(['-e', '0'], app);
  const installed: number[] = [];
  const bare: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = time(help, app);
    const b = time(['-e', '0'], app);
    installed.push(a);
    bare.push(b);
    ratios.push(a / b);
  }
  progress(`cli-help: ${RUNS} pairs done; the source through tsx, ${SOURCE_RUNS} runs`);
  const source: number[] = [];
  for (let i = 0; i < SOURCE_RUNS; i++) source.push(time(['bin/overseer.js', '--help'], checkout));

  const ratio = spread(ratios);
  report({
    bench: 'cli-help',
    runs: RUNS,
    installedHelpMs: round(spread(installed).median, 1),
    nodeBareMs: round(spread(bare).median, 1),
    ratio: round(ratio.median, 2),
    sourceHelpMs: round(spread(source).median, 1),
    targets: [
      {
        metric: '`overseer --help` installed ÷ `node -e 0` (median of pairs)',
        value: round(ratio.median, 2),
        target: '≤ 2×',
        met: ratio.median <= 2,
      },
    ],
    spread: { ratio, installedMs: spread(installed), bareMs: spread(bare), sourceMs: spread(source) },
  });
} finally {
  work.remove();
}
