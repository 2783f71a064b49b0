import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PhaseToolPolicySchema } from '../../src/contracts/tool-policy.ts';
import { DEFAULT_PHASE_POLICIES } from '../../src/domain/tool-policy/default-policies.ts';
import { validateWorkflow } from '../../src/domain/workflow/validate-workflow.ts';

describe('the default workflow', () => {
  it("ships exactly the default per-phase tool policies the tool check's corpus is run against", () => {
    const checked = validateWorkflow(readFileSync('workflows/default.yaml', 'utf8'));
    if (!('workflow' in checked)) throw new Error(JSON.stringify(checked));
    const ids = checked.workflow.phases.map((p) => p.id);
    expect(ids.sort()).toEqual(Object.keys(DEFAULT_PHASE_POLICIES).sort());
    for (const phase of checked.workflow.phases)
      expect(PhaseToolPolicySchema.parse(phase.tools ?? {}), phase.id).toEqual(
        PhaseToolPolicySchema.parse(DEFAULT_PHASE_POLICIES[phase.id as keyof typeof DEFAULT_PHASE_POLICIES]),
      );
  });
});
