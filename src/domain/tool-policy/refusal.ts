/** A refusal with the rule that refused (a stable id such as `path.escape`, listed in docs/tools.md). */
export interface Refusal {
  rule: string;
  reason: string;
}
