import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { machines } from '../../src/machines/registry.ts';
import {
  findDrift,
  generators,
  machineEntries,
  renderMachine,
  ROOT,
  statechartPath,
} from '../../scripts/gen.ts';

describe('statecharts/*.json', () => {
  it('has one generated file per registered machine', () => {
    expect(machineEntries().map((e) => e.path)).toEqual(Object.keys(machines).map(statechartPath));
  });

  it.each(Object.entries(machines))(
    'statecharts/%s.json is machine.toJSON() as gen renders it',
    async (name, { machine }) => {
      const onDisk = await readFile(join(ROOT, statechartPath(name)), 'utf8').catch(() => null);
      expect(onDisk, `${statechartPath(name)} is missing: run npm run gen`).not.toBeNull();
      expect(onDisk, `${statechartPath(name)} drifted: run npm run gen`).toBe(renderMachine(machine));
      expect(JSON.parse(onDisk!)).toEqual(JSON.parse(JSON.stringify(machine.toJSON())));
    },
  );

  it('no generated file drifted and no statechart is orphaned', async () => {
    expect(await findDrift(generators())).toEqual([]);
  });

  it('the drift check notices a changed file', async () => {
    const entry = machineEntries()[0]!;
    const changed = { path: entry.path, render: () => `${entry.render()} ` };
    expect(await findDrift([changed])).toContainEqual({ path: entry.path, reason: 'differs' });
  });
});
