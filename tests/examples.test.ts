import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDataDir } from '../src/testing.ts';

describe('examples', () => {
  it('README prints examples/01-embed.ts exactly', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /## Embed it[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync('examples/01-embed.ts', 'utf8'));
  });

  it('examples/01-embed.ts runs as printed', () => {
    const dir = tempDataDir();
    try {
      const out = execFileSync(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', 'examples/01-embed.ts'],
        {
          env: { ...process.env, OVERSEER_DATA_DIR: dir.path },
          encoding: 'utf8',
        },
      );
      const lines = out.trim().split('\n');
      expect(lines).toContain('QUEUED true');
      expect(lines).toContain('pause');
      expect(lines).toContain('resume');
      expect(lines.at(-1)).toBe('true');
      expect(lines[0]).toBe('#1 job ∅ → SUBMITTED');
    } finally {
      dir.remove();
    }
  });
});
