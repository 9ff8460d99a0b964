import type { HealthState } from '../kernel/types.js';

/** One backend as `recommend` sees it: its health now and what its rate limits say. */
export interface BackendView {
  name: string;
  active: boolean;
  health: HealthState;
  latencyMs?: number;
  detail?: string;
  /** The rate-limit advisor's line for it (`requests per day (14400): 99 left, ...`), when it knows any. */
  quota?: string;
  /** One of its limits is used up now. */
  exhausted: boolean;
}

export interface Recommendation {
  /** Where the state came from: a running proxy's live state, or probes `recommend` ran itself. */
  source: 'running proxy' | 'probes';
  active: string;
  /** The backend to use now; undefined when none answers. */
  use?: string;
  /** Why, in a sentence. */
  reason: string;
  /**
   * When `use` is not the active one: `llm-proxy switch <name>` for a running proxy, else how to
   * start one on it (`LLM_BACKEND=<name> llm-proxy start`).
   */
  command?: string;
  backends: BackendView[];
}

const usable = (b: BackendView): boolean => (b.health === 'ok' || b.health === 'degraded') && !b.exhausted;

/** What to use now: the active backend while it answers and has quota, else the first such one in config order. */
export function recommend(source: Recommendation['source'], backends: BackendView[]): Recommendation {
  const active = backends.find((b) => b.active);
  const activeName = active?.name ?? backends[0]?.name ?? '';
  const base = { source, active: activeName, backends };
  if (active && usable(active)) return { ...base, use: active.name, reason: `${active.name} is the active backend and answers${active.quota ? ', with quota left' : ''}` };
  const why = !active ? 'no backend is active' : active.exhausted ? `${active.name} has used up a rate limit` : `${active.name} is ${active.health}`;
  const next = backends.find(usable);
  if (!next) return { ...base, reason: `${why}, and no other configured backend answers with quota left` };
  const command = source === 'running proxy' ? `llm-proxy switch ${next.name}` : `LLM_BACKEND=${next.name} llm-proxy start`;
  return { ...base, use: next.name, reason: `${why}; ${next.name} answers${next.latencyMs !== undefined ? ` (${next.latencyMs} ms)` : ''}`, command };
}
