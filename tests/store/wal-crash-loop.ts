/**
 * The WAL crash loop: runs `wal-crash-child.ts` again and again on one directory, each run SIGKILLing itself at a
 * seeded random crash point (write, torn write, after the write, after the fdatasync, recycling), and keeps the
 * acknowledgement log here, in the parent. Every open must replay every acknowledged record above the checkpoint
 * with the content acknowledged, in consecutive LSNs; an acknowledged LSN is never reused for other content.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WalCrashStep } from '../../src/store/wal/crash-point.ts';
import { mulberry32 } from '../support/prng.ts';

const child = fileURLToPath(new URL('./wal-crash-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** What a crash loop saw. Pass means `problems` is empty and `kills` > 0. */
export interface CrashLoopReport {
  runs: number;
  kills: number;
  killsByStep: Record<string, number>;
  acked: number;
  replayed: number;
  problems: string[];
}

interface RunOutput {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

function runChild(args: string[], crashAt: string | undefined): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    if (crashAt) env['OVERSEER_CRASH_AT'] = crashAt;
    else delete env['OVERSEER_CRASH_AT'];
    const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { cwd: repoRoot, env });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ stdout, stderr, code, signal }));
  });
}

/**
 * A crash point a run of `groups` groups reaches: about groups / 8 write rounds (8 lanes; fewer when groups merge),
 * one recycle per ~13 groups (two ~150-byte records each, 4 KiB segments), in 'commit' a sync per 50 ms.
 */
function pickCrash(rand: () => number, mode: 'flush' | 'commit', groups: number): string {
  const steps = Object.values(WalCrashStep);
  const step = steps[Math.floor(rand() * steps.length)]!;
  const max =
    step === WalCrashStep.RECYCLE || step === WalCrashStep.RECYCLED
      ? Math.max(1, Math.floor(groups / 16))
      : step === WalCrashStep.SYNCED && mode === 'commit'
        ? 2
        : Math.max(1, Math.floor(groups / 10));
  return `${step}@${1 + Math.floor(rand() * max)}`;
}

/** Runs `runs` crashing child runs (plus a last clean open) on `root` and checks every open against the acks. */
export async function crashLoop(options: {
  root: string;
  mode: 'flush' | 'commit';
  runs: number;
  seed: number;
  groupsPerRun: number;
}): Promise<CrashLoopReport> {
  const rand = mulberry32(options.seed);
  const acked = new Map<number, string>();
  let maxAcked = 0;
  let lastApplied = 0;
  const report: CrashLoopReport = { runs: 0, kills: 0, killsByStep: {}, acked: 0, replayed: 0, problems: [] };
  for (let run = 0; run <= options.runs; run++) {
    const last = run === options.runs;
    const crashAt = last ? undefined : pickCrash(rand, options.mode, options.groupsPerRun);
    const groups = last ? 0 : options.groupsPerRun;
    const out = await runChild(
      [options.root, options.mode, String(maxAcked), String(run), String(groups)],
      crashAt,
    );
    report.runs += 1;
    const problem = (what: string): void => {
      report.problems.push(`run ${run} (${crashAt ?? 'clean'}): ${what}`);
    };
    const lines = out.stdout.split('\n').filter(Boolean);
    const open = /^open (\d+) (\d+)$/.exec(lines[0] ?? '');
    if (!open) {
      problem(`did not open: ${lines[0] ?? ''} ${out.stderr.slice(0, 500)}`);
      break;
    }
    const applied = Number(open[1]);
    const written = Number(open[2]);
    if (applied < lastApplied) problem(`applied LSN went back from ${lastApplied} to ${applied}`);
    lastApplied = applied;
    const replay = new Map<number, string>();
    let expect = applied + 1;
    for (const line of lines) {
      const m = /^rec (\d+) (\S+)$/.exec(line);
      if (!m) continue;
      const lsn = Number(m[1]);
      if (lsn !== expect) problem(`replay LSN ${lsn}, expected ${expect}`);
      expect = lsn + 1;
      replay.set(lsn, m[2]!);
    }
    if (expect - 1 !== written) problem(`replay ended at ${expect - 1}, the WAL says ${written}`);
    report.replayed += replay.size;
    for (const [lsn, id] of acked) {
      if (lsn <= applied) acked.delete(lsn);
      else if (replay.get(lsn) !== id)
        problem(`acknowledged LSN ${lsn} (${id}) replayed as ${replay.get(lsn) ?? 'nothing'}`);
    }
    for (const line of lines) {
      const m = /^ack (\d+) (\S+),(\S+)$/.exec(line);
      if (!m) continue;
      const lsn = Number(m[1]);
      for (const [at, id] of [
        [lsn - 1, m[2]!],
        [lsn, m[3]!],
      ] as const) {
        const before = acked.get(at);
        if (before !== undefined && before !== id)
          problem(`LSN ${at} acknowledged as ${before}, then as ${id}`);
        acked.set(at, id);
      }
      maxAcked = Math.max(maxAcked, lsn);
      report.acked += 2;
    }
    if (lines.some((l) => l.startsWith('error'))) problem(lines.find((l) => l.startsWith('error'))!);
    if (out.signal === 'SIGKILL' && out.stderr.includes('crash point')) {
      report.kills += 1;
      const step = crashAt!.split('@')[0]!;
      report.killsByStep[step] = (report.killsByStep[step] ?? 0) + 1;
    } else if (!(out.code === 0 && lines.at(-1) === 'done')) {
      problem(`exited ${String(out.code ?? out.signal)}: ${out.stderr.slice(0, 500)}`);
    }
  }
  return report;
}
