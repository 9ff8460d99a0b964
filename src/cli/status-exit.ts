/** `status`'s exit codes, for scripts (also in `status --help` and the README). */
export const STATUS_EXIT = {
  /** Every running proxy answers and its active backend is not down. */
  ok: 0,
  noProxy: 1,
  /** A proxy is recorded as running but does not answer. */
  unreachable: 3,
  /** A proxy answers, but its active backend is down. */
  backendDown: 4,
} as const;

export const STATUS_EXIT_HELP = [
  `  ${STATUS_EXIT.ok}  every running proxy answers and its active backend is up (ok, degraded or unknown)`,
  `  ${STATUS_EXIT.noProxy}  no llm-proxy is running`,
  `  ${STATUS_EXIT.unreachable}  a running llm-proxy does not answer`,
  `  ${STATUS_EXIT.backendDown}  a running llm-proxy's active backend is down`,
  '  (2 is a usage error, as for every command)',
].join('\n');
