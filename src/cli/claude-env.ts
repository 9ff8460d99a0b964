import type { ResolvedConfig } from '../config/types.js';
import { collectSecrets } from '../proxy.js';

/** The token Claude Code sends when the proxy has no client keys; any value would do. */
export const PLACEHOLDER_TOKEN = 'llm-proxy';

/**
 * Values to mask in output. The placeholder is left out: after `eval "$(llm-proxy env)"` it sits in
 * ANTHROPIC_AUTH_TOKEN, and masking it would mangle every path and message naming llm-proxy.
 */
export const secretsOf = (config: ResolvedConfig): string[] => collectSecrets(config).filter((s) => s !== PLACEHOLDER_TOKEN);

export interface ClaudeEnv {
  ANTHROPIC_BASE_URL: string;
  ANTHROPIC_AUTH_TOKEN: string;
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: string;
}

/** What Claude Code needs to go through the proxy (a client key replaces the token separately, never printed). */
export function claudeEnv(url: string): ClaudeEnv {
  return {
    ANTHROPIC_BASE_URL: url,
    // Without configured client keys the proxy accepts any token; Claude Code just needs one.
    ANTHROPIC_AUTH_TOKEN: PLACEHOLDER_TOKEN,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  };
}

/** Example routing of Claude Code's model tiers to backends (`/model` accepts backend names). */
export function modelTierExamples(config: ResolvedConfig): Record<string, string> {
  const active = config.backend;
  const other = Object.keys(config.backends).find((name) => name !== active) ?? active;
  return {
    ANTHROPIC_DEFAULT_OPUS_MODEL: active,
    ANTHROPIC_DEFAULT_SONNET_MODEL: active,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: other,
  };
}
