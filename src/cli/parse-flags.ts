/** Parses `--key value` and `--flag` arguments. */
export function parseFlags(args: readonly string[]): {
  positional: string[];
  flags: Record<string, string | boolean>;
} {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const key = name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    if (inline !== undefined) flags[key] = inline;
    else if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) flags[key] = args[++i]!;
    else flags[key] = true;
  }
  return { positional, flags };
}
