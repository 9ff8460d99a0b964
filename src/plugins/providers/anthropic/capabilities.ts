// What each kind of server that speaks the Messages API accepts of what Claude Code sends. The
// README of this folder says where each row was checked (the servers' own code and docs).

/** The kinds of server a `server` setting names; each has a row in `PRESETS`. */
export const SERVER_KINDS = ['anthropic-api', 'vllm', 'ollama', 'llama.cpp', 'litellm', 'generic'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** What a backend accepts. A feature it lacks is removed from the body together with its beta. */
export interface Capabilities {
  /** `context_management` (beta `context-management-*`). */
  contextManagement: boolean;
  /** `output_config`, e.g. `{effort}` (beta `effort-*`). */
  outputConfig: boolean;
  /** `cache_control.scope` (beta `prompt-caching-scope-*`); `cache_control` itself always stays. */
  cacheScope: boolean;
  /** Tools' `defer_loading` (betas `advanced-tool-use-*`, `tool-search-tool-*`): without it, every tool is loaded. */
  deferLoading: boolean;
  /** `role: "system"` messages inside `messages` (beta `mid-conversation-system-*`): without it, folded into user turns. */
  systemMessages: boolean;
  /**
   * Whether it verifies thinking signatures: then each thinking block goes only to the upstream
   * that signed it. Without, thinking blocks go with their text and no `signature`, and
   * `redacted_thinking` (opaque to anyone but Anthropic) is left out.
   */
  signatures: boolean;
  /** The other `anthropic-beta` values it is sent: `"all"`, or these names (with their dates). */
  betas: 'all' | readonly string[];
}

/** The features that come with a beta, in the order `x-llm-proxy-stripped` names them. */
export type Feature = Exclude<keyof Capabilities, 'betas' | 'signatures'>;

/** A feature's betas, by prefix (their date suffixes change). */
export const FEATURE_BETAS: Readonly<Record<Feature, readonly string[]>> = {
  contextManagement: ['context-management-'],
  outputConfig: ['effort-'],
  cacheScope: ['prompt-caching-scope-'],
  deferLoading: ['advanced-tool-use-', 'tool-search-tool-'],
  systemMessages: ['mid-conversation-system-'],
};

const ALL: Capabilities = {
  contextManagement: true,
  outputConfig: true,
  cacheScope: true,
  deferLoading: true,
  systemMessages: true,
  signatures: true,
  betas: 'all',
};

const NONE: Capabilities = {
  contextManagement: false,
  outputConfig: false,
  cacheScope: false,
  deferLoading: false,
  systemMessages: false,
  signatures: false,
  betas: [],
};

export const PRESETS: Readonly<Record<ServerKind, Readonly<Capabilities>>> = {
  'anthropic-api': ALL,
  // A gateway that adapts for each provider it routes to (its own beta allowlist, scope removal).
  litellm: ALL,
  // Reads output_config.effort; ignores unknown fields. Older releases refuse role "system" and redacted_thinking.
  vllm: { ...NONE, outputConfig: true },
  // Maps output_config.effort to `think`, turns system messages into system chat messages.
  ollama: { ...NONE, outputConfig: true, systemMessages: true },
  // Builds its own chat request from a few known fields; a system turn mid-conversation breaks many chat templates.
  'llama.cpp': NONE,
  generic: NONE,
};

export type CapabilityOverrides = Partial<Capabilities>;

/** The preset a backend gets without `server`: the real API at api.anthropic.com, else `generic`. */
export function defaultServerKind(baseUrl: string): ServerKind {
  return new URL(baseUrl).hostname === 'api.anthropic.com' ? 'anthropic-api' : 'generic';
}

export function capabilitiesOf(kind: ServerKind, overrides: CapabilityOverrides | undefined): Capabilities {
  return { ...PRESETS[kind], ...overrides };
}

/** Whether `beta` belongs to one of the features, and which. */
export function featureOfBeta(beta: string): Feature | undefined {
  for (const [feature, prefixes] of Object.entries(FEATURE_BETAS) as Array<[Feature, readonly string[]]>) {
    if (prefixes.some((prefix) => beta.startsWith(prefix))) return feature;
  }
  return undefined;
}
