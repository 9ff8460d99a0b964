import type { ModelMapping } from '../config/types.js';

/** `claude-*-4-5*` as a case-insensitive RegExp; `*` matches anything. */
export const globToRegExp = (glob: string): RegExp =>
  new RegExp('^' + glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i');

/**
 * Claude Code's own model names. It resolves `opus`, `sonnet`, `haiku` (and `/model opus`) to
 * `claude-*` names before sending, and asks for `claude-haiku-*` for subagents.
 */
export const isClaudeModel = (name: string): boolean => /^claude-/i.test(name);

/** The upstream model of the first `models` glob matching the name, if one does. */
export function mappedModel(mapping: ModelMapping, requested: string): string | undefined {
  for (const [glob, model] of Object.entries(mapping.models ?? {})) if (globToRegExp(glob).test(requested)) return model;
  return undefined;
}

/**
 * Maps a Claude model name to the backend's model: the first matching `models` glob,
 * else `model`, else the name unchanged (so `/model <backend>/<upstream-model>` works).
 * The router calls it only for Claude model names, mapped names and backend names; any other
 * name must be one the backend serves (see default-router).
 */
export function createModelResolver(mapping: ModelMapping): (requested: string) => string {
  const rules = Object.entries(mapping.models ?? {}).map(([glob, model]) => ({ test: globToRegExp(glob), model }));
  return (requested) => {
    for (const rule of rules) if (rule.test.test(requested)) return rule.model;
    return mapping.model ?? requested;
  };
}

/** The ids of an OpenAI or Anthropic model list (`{ data: [{ id }] }`). */
export function modelIds(list: { data?: Array<{ id?: unknown }> }): string[] {
  return (list.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
}
