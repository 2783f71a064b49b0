/** Whether a worker offering `offered` can run a job requiring `required` (a subset check). */
export function hasCapabilities(required: readonly string[], offered: readonly string[]): boolean {
  if (required.length === 0) return true;
  if (required.length === 1) return offered.includes(required[0]!);
  const set = new Set(offered);
  return required.every((c) => set.has(c));
}
