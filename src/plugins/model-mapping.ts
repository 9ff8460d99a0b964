import type { ModelMapping } from '../config/types.js';

/** `claude-*-4-5*` as a case-insensitive RegExp; `*` matches anything. */
export const globToRegExp = (glob: string): RegExp =>
  new RegExp('^' + glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i');

/**
 * Maps a Claude model name to the backend's model: the first matching `models` glob,
 * else `model`, else the name unchanged (so `/model <backend>/<upstream-model>` works).
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
