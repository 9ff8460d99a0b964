// The shape of GET /ui/api/state (plugins/dashboard/index.ts `state()`).

export type HealthStatus = 'ok' | 'degraded' | 'down' | 'unknown';

export interface Endpoint {
  url: string;
  status: string;
  inFlight: number;
  latencyMs?: number;
  detail?: string;
}

export interface BackendHealth {
  status: HealthStatus;
  latencyMs?: number;
  detail?: string;
  active: boolean;
  circuit?: 'open' | 'half-open';
  probeAgeSeconds?: number;
  endpoints?: Endpoint[];
}

export interface Limit {
  resource: string;
  window: string;
  limit?: number;
  remaining?: number;
  resetAt?: number;
}

export interface Quota {
  backend: string;
  lastStatus: number;
  observedAt: number;
  limits: Limit[];
}

export interface Backend {
  name: string;
  type: string;
  health?: BackendHealth;
  quota?: Quota;
  [field: string]: unknown;
}

export interface Savings {
  hits: Record<string, number>;
  misses: number;
  bypasses: number;
  stores: number;
  tokensServed: { input: number; output: number };
  savedUsd: number;
}

export interface TierReport {
  entries?: number;
  bytes?: number;
  maxBytes?: number;
  [field: string]: unknown;
}

export interface RequestRow {
  at: number;
  id: string;
  backend?: string;
  endpoint?: string;
  model?: string;
  cache: string;
  tier?: string;
  status: number;
  stream: boolean;
  ttftMs?: number;
  durationMs: number;
  inputTokens?: number;
  outputTokens?: number;
  error?: string;
}

export interface MinuteBackend {
  requests: number;
  errors: number;
  p50Ms?: number;
  p95Ms?: number;
  ttftP50Ms?: number;
}

export interface MinutePoint {
  at: number;
  backends: Record<string, MinuteBackend>;
  hits: Record<string, number>;
  misses: number;
}

export interface State {
  at: number;
  readOnly: boolean;
  active: string;
  status?: 'ok' | 'degraded' | 'down';
  backends: Backend[];
  cache?: { tiers: Record<string, TierReport>; savings: Savings };
  requests: RequestRow[];
  windowMinutes: number;
  timeline: MinutePoint[];
}
