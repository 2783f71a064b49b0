/** A three-phase workflow for tests of the phase core: PLAN (a plan with acceptance criteria) → BUILD → DONE. */
export const TINY = `name: tiny
version: 1
phases:
  - id: PLAN
    artifacts: [plan]
  - id: BUILD
  - id: DONE
    final: true
transitions:
  - from: PLAN
    to: BUILD
    gates: [plan_has_acceptance_criteria]
  - from: BUILD
    to: DONE
`;

/** A plan that passes `plan_has_acceptance_criteria`. */
export const PLAN = { summary: 'Add login.', acceptance_criteria: ['A user logs in with a password.'] };
