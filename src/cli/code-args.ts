/**
 * Splits `code` arguments: ours come before `--`, Claude Code's after it. Without `--` all of them
 * are Claude Code's, except a lone `--help`, which shows ours.
 */
export function splitCodeArgs(args: readonly string[]): { ours: string[]; claude: string[] } {
  const dashes = args.indexOf('--');
  if (dashes >= 0) return { ours: args.slice(0, dashes), claude: args.slice(dashes + 1) };
  if (args.length > 0 && args.every((a) => a === '--help' || a === '-h')) return { ours: [...args], claude: [] };
  return { ours: [], claude: [...args] };
}
