import type { Refusal } from './refusal.ts';

/** Options of each writer that take a value in the next word (the value is not a path unless listed below). */
const VALUED: Readonly<Record<string, readonly string[]>> = {
  cp: ['-S', '--suffix'],
  mv: ['-S', '--suffix'],
  ln: ['-S', '--suffix'],
  install: ['-S', '--suffix', '-m', '--mode', '-o', '--owner', '-g', '--group'],
  mkdir: ['-m', '--mode'],
  mkfifo: ['-m', '--mode'],
  mknod: ['-m', '--mode'],
  touch: ['-d', '--date', '-t'],
  truncate: ['-s', '--size'],
  sed: ['-l', '--line-length'],
  shred: ['-n', '--iterations', '-s', '--size'],
};

/** Options whose value is a path the writer writes (`-t DIR`) or reads (`-r REF`, `-f SCRIPT`). */
const TARGET_DIR = ['-t', '--target-directory'];
const READ_VALUE: Readonly<Record<string, readonly string[]>> = {
  touch: ['-r', '--reference'],
  truncate: ['-r', '--reference'],
  sed: ['-f', '--file'],
  chmod: ['--reference'],
  chown: ['--reference'],
  chgrp: ['--reference'],
};

/**
 * The paths a writer reads and writes, from its literal words: `cp`/`install` write their last operand and read
 * the others, `mv` and `ln` write all of theirs (a move removes its source; a link may name anything), `tee`,
 * `rm`, `touch`, `mkdir`, `truncate`, `shred`, `unlink` write all of theirs, `chmod`/`chown`/`chgrp` skip the
 * mode or owner, `dd` writes `of=` and reads `if=`, `sed -i` writes its files (after the script).
 */
export function writerTargets(
  name: string,
  values: readonly string[],
): { reads: string[]; writes: string[] } | Refusal {
  const reads: string[] = [];
  const writes: string[] = [];
  if (name === 'dd') {
    for (const v of values.slice(1)) {
      if (v.startsWith('of=')) writes.push(v.slice(3));
      else if (v.startsWith('if=')) reads.push(v.slice(3));
    }
    return { reads, writes };
  }
  const valued = VALUED[name] ?? [];
  const readValued = READ_VALUE[name] ?? [];
  const operands: string[] = [];
  let scriptGiven = false;
  let targetDir = false;
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    if (v === '--') {
      operands.push(...values.slice(i + 1));
      break;
    }
    if (!v.startsWith('-') || v === '-') {
      operands.push(v);
      continue;
    }
    const eq = v.indexOf('=');
    const opt = eq > 0 ? v.slice(0, eq) : v;
    const inline = eq > 0 ? v.slice(eq + 1) : null;
    const next = (): string | undefined => (inline !== null ? inline : values[++i]);
    if (TARGET_DIR.includes(opt) && name !== 'sed') {
      const dir = next();
      if (dir === undefined) return missing(name, v);
      writes.push(dir);
      targetDir = true;
    } else if (readValued.includes(opt)) {
      const file = next();
      if (file === undefined) return missing(name, v);
      reads.push(file);
      if (name === 'sed') scriptGiven = true;
    } else if (name === 'sed' && (opt === '-e' || opt === '--expression')) {
      if (next() === undefined) return missing(name, v);
      scriptGiven = true;
    } else if (valued.includes(opt) && inline === null) i++;
  }
  switch (name) {
    case 'cp':
    case 'install': {
      if (targetDir) reads.push(...operands);
      else {
        reads.push(...operands.slice(0, -1));
        writes.push(...operands.slice(-1));
      }
      break;
    }
    case 'chmod':
    case 'chown':
    case 'chgrp': {
      const hasReference = values.some((v) => v.startsWith('--reference'));
      writes.push(...(hasReference ? operands : operands.slice(1)));
      break;
    }
    case 'sed':
      writes.push(...(scriptGiven ? operands : operands.slice(1)));
      break;
    default:
      writes.push(...operands);
  }
  return { reads, writes };
}

function missing(name: string, opt: string): Refusal {
  return { rule: 'command.writer-unknown-target', reason: `${name} ${opt} has no value` };
}
