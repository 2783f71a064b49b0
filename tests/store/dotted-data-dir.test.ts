import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOverseer } from '../../src/index.ts';
import { tempDataDir } from '../../src/testing.ts';

describe('a data dir whose last segment has a dot', () => {
  it('is a directory holding the environment, and keeps the work across a restart', async () => {
    const tmp = tempDataDir();
    const dataDir = join(tmp.path, 'x.v2');
    try {
      const first = await createOverseer({ dataDir, logLevel: 'silent' });
      const job = await first.workspace('acme').jobs.submit({ title: 'Dotted' });
      await first.close();

      expect(statSync(dataDir).isDirectory()).toBe(true);
      expect(existsSync(join(dataDir, 'data.mdb'))).toBe(true);
      const second = await createOverseer({ dataDir, logLevel: 'silent' });
      try {
        expect((await second.workspace('acme').jobs.get(job.id)).title).toBe('Dotted');
      } finally {
        await second.close();
      }
    } finally {
      tmp.remove();
    }
  });
});
