import type { ResolvedConfig } from '../config/types.js';
import { collectSecrets } from '../proxy.js';
import { fetchStatus } from './admin-client.js';
import type { InstanceRecord } from './instances.js';

/** The token Claude Code sends when the proxy has no client keys; any value would do. */
export const PLACEHOLDER_TOKEN = 'llm-proxy';

/**
 * Values to mask in output. The placeholder is left out: after `eval "$(llm-proxy env)"` it sits in
 * ANTHROPIC_AUTH_TOKEN, and masking it would mangle every path and message naming llm-proxy.
 */
export const secretsOf = (config: ResolvedConfig): string[] => collectSecrets(config).filter((s) => s !== PLACEHOLDER_TOKEN);

/**
 * Claude Code's timeout for one API request without API_TIMEOUT_MS: 600 s, and 300 s for the
 * non-streaming retry it sends after a cut stream (Claude Code 2.1.197). A self-hosted model
 * that is still loading (Ollama waits up to 300 s, RunPod serverless 600 s) plus a long answer
 * outlasts that; the proxy's own first-byte and idle timeouts still end a stuck upstream.
 */
export const API_TIMEOUT_MS = 1_800_000;

export interface ClaudeEnvVar {
  name: string;
  value: string;
  /** One line for `llm-proxy env`: why Claude Code needs this through a proxy. */
  why: string;
  /** Tuning rather than wiring: a value the user already set is kept. */
  optional?: boolean;
}

/** The signals of Claude Code's telemetry the config's telemetry plugin forwards (`claudeCode`), or none. */
export function claudeCodeSignals(config: ResolvedConfig | undefined): string[] {
  const api = config?.plugins.find((plugin) => plugin.name === 'telemetry')?.api;
  const signals = api !== null && typeof api === 'object' && 'claudeCodeSignals' in api ? api.claudeCodeSignals : undefined;
  return Array.isArray(signals) ? signals.filter((signal): signal is string => typeof signal === 'string') : [];
}

/**
 * Claude Code's own OpenTelemetry exports, sent to the proxy, which forwards them (2.1.197 reads
 * these; it needs a protocol named, and exports traces only with the enhanced telemetry beta).
 */
function telemetryVars(url: string, signals: readonly string[]): ClaudeEnvVar[] {
  if (signals.length === 0) return [];
  const exporter = (signal: string) => (signals.includes(signal) ? 'otlp' : 'none');
  return [
    { name: 'CLAUDE_CODE_ENABLE_TELEMETRY', value: '1', why: "Claude Code's own OpenTelemetry metrics and events, which the proxy forwards to its collector" },
    ...(signals.includes('traces') ? [{ name: 'CLAUDE_CODE_ENHANCED_TELEMETRY_BETA', value: '1', why: 'Claude Code exports traces (its interactions and API calls) only with this' }] : []),
    { name: 'OTEL_TRACES_EXPORTER', value: exporter('traces'), why: 'which of its signals Claude Code exports: those the proxy forwards' },
    { name: 'OTEL_METRICS_EXPORTER', value: exporter('metrics'), why: 'which of its signals Claude Code exports: those the proxy forwards' },
    { name: 'OTEL_LOGS_EXPORTER', value: exporter('logs'), why: 'which of its signals Claude Code exports: those the proxy forwards' },
    { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf', why: 'Claude Code exports nothing without a protocol named' },
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: url, why: 'the proxy takes the exports (/v1/traces, /v1/metrics, /v1/logs) and forwards them to its collector' },
  ];
}

/** The window Claude Code 2.1.197 takes from CLAUDE_CODE_AUTO_COMPACT_WINDOW at the least. */
const MIN_AUTO_COMPACT_WINDOW = 100_000;

/** What Claude Code should know of the active backend: its context window, and the models of the proxy. */
export interface ClaudeSession {
  /** The active backend's context window, when the proxy knows it. */
  contextWindow?: number;
  active?: string;
  /** The user's environment, for the opt-ins it holds (gateway model discovery). */
  env?: NodeJS.ProcessEnv;
}

/** What the running proxy says of its active backend; nothing when it cannot be asked (Claude Code still works). */
export async function sessionOf(instance: InstanceRecord, home: string): Promise<ClaudeSession> {
  const report = await fetchStatus(instance, { home }).catch(() => undefined);
  return report ? { active: report.active, contextWindow: report.contextWindow?.tokens } : {};
}

/**
 * Claude Code 2.1.197 takes a model's window as 200k for Claude model names and as
 * CLAUDE_CODE_MAX_CONTEXT_TOKENS for any other. It compacts ahead of time only when
 * CLAUDE_CODE_AUTO_COMPACT_WINDOW is set (it reads at least 100k there, capped by the model's
 * window); otherwise it waits for the API's "prompt is too long", which the proxy sends before
 * the backend would cut the prompt.
 */
function windowVars(session: ClaudeSession): ClaudeEnvVar[] {
  const window = session.contextWindow;
  if (window === undefined) return [];
  const vars: ClaudeEnvVar[] = [
    {
      name: 'CLAUDE_CODE_MAX_CONTEXT_TOKENS',
      value: String(window),
      why: `the active backend's context window, ${window} tokens (Claude Code reads it for model names that are not Claude's)`,
    },
    {
      name: 'CLAUDE_CODE_AUTO_COMPACT_WINDOW',
      value: String(window),
      why: 'Claude Code compacts the conversation ahead of time only with this set (up to the window above), instead of after a refusal',
    },
  ];
  if (window < MIN_AUTO_COMPACT_WINDOW && session.active) {
    vars.push({
      name: 'ANTHROPIC_MODEL',
      optional: true,
      value: `anthropic/${session.active}`,
      why: `a window under 100000 tokens reaches Claude Code only with a model name that is not Claude's: this names backend "${session.active}" (after \`llm-proxy switch\`, choose the new one with /model)`,
    });
  }
  return vars;
}

/**
 * Claude Code lists a gateway's models in /model when CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY
 * is set, but never in essential-traffic mode (CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC): with
 * the opt-in, the proxy sets the three opt-outs that mode implies instead.
 */
function trafficVars(session: ClaudeSession): ClaudeEnvVar[] {
  const discovery = session.env?.CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY;
  if (discovery && discovery !== '0' && discovery !== 'false') {
    const why = "what CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC would turn off, without the mode that hides the proxy's models from /model";
    return [
      { name: 'DISABLE_TELEMETRY', value: '1', optional: true, why },
      { name: 'DISABLE_ERROR_REPORTING', value: '1', optional: true, why },
      { name: 'DISABLE_AUTOUPDATER', value: '1', optional: true, why },
    ];
  }
  return [
    {
      name: 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
      optional: true,
      value: '1',
      why: "no telemetry, error reports or update checks to Anthropic's own hosts, which do not go through the proxy (implies DISABLE_TELEMETRY, DISABLE_ERROR_REPORTING, DISABLE_AUTOUPDATER; it also hides the proxy's models from /model: set CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1 to list them)",
    },
  ];
}

/**
 * What Claude Code needs to work well through the proxy, each with its reason (checked against
 * the pinned CLI's code). A client key replaces the token separately and is never printed.
 */
export function claudeEnvVars(url: string, config?: ResolvedConfig, session: ClaudeSession = {}): ClaudeEnvVar[] {
  return [
    { name: 'ANTHROPIC_BASE_URL', value: url, why: 'where Claude Code sends its API requests: this proxy' },
    {
      name: 'ANTHROPIC_AUTH_TOKEN',
      value: PLACEHOLDER_TOKEN,
      why: 'Claude Code needs a credential to start without a login; the proxy has no client keys, so any value works',
    },
    ...trafficVars(session),
    {
      name: 'CLAUDE_CODE_ATTRIBUTION_HEADER',
      optional: true,
      value: '0',
      why: "drops Anthropic's billing line from the system prompt: it changes with every conversation, so prompt caches (vLLM, llama.cpp, the semantic cache) could not reuse the system prompt",
    },
    {
      name: 'API_TIMEOUT_MS',
      optional: true,
      value: String(API_TIMEOUT_MS),
      why: "self-hosted models can take minutes to load before answering; Claude Code's default gives up after 5-10 minutes",
    },
    ...windowVars(session),
    ...telemetryVars(url, claudeCodeSignals(config)),
  ];
}

/** The variables for a child process's environment (`llm-proxy code`); optional ones already in `current` stay. */
export function claudeEnv(url: string, current: NodeJS.ProcessEnv = {}, config?: ResolvedConfig, session: ClaudeSession = {}): Record<string, string> {
  return Object.fromEntries(claudeEnvVars(url, config, { env: current, ...session }).map((v) => [v.name, v.optional ? (current[v.name] ?? v.value) : v.value]));
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
