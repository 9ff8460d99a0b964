/** One answered request, as the dashboard's table shows it. */
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
  /** The message the client got, for a failed request. */
  error?: string;
}

/** The last `size` requests, newest first: a fixed array written in place. */
export class RequestLog {
  readonly #rows: Array<RequestRow | undefined>;
  #next = 0;

  constructor(readonly size: number) {
    this.#rows = new Array<RequestRow | undefined>(size);
  }

  add(row: RequestRow): void {
    this.#rows[this.#next] = row;
    this.#next = (this.#next + 1) % this.size;
  }

  list(): RequestRow[] {
    const out: RequestRow[] = [];
    for (let i = 1; i <= this.size; i++) {
      const row = this.#rows[(this.#next - i + this.size) % this.size];
      if (row) out.push(row);
    }
    return out;
  }
}

/** Latencies kept per backend and minute for its percentiles: a bounded sample, not every value. */
const SAMPLES = 128;

interface BackendMinute {
  requests: number;
  errors: number;
  /** Up to SAMPLES durations (reservoir sampling past that). */
  durations: number[];
  ttfts: number[];
}

interface Minute {
  minute: number;
  backends: Map<string, BackendMinute>;
  hits: Record<string, number>;
  misses: number;
}

export interface MinutePoint {
  /** Epoch ms of the minute's start. */
  at: number;
  backends: Record<string, { requests: number; errors: number; p50Ms?: number; p95Ms?: number; ttftP50Ms?: number }>;
  hits: Record<string, number>;
  misses: number;
}

/**
 * Per-minute figures over the last `windowMinutes`: requests, errors and latency percentiles per
 * backend, cache hits per tier and misses. A ring of minute slots: a slot is reused once its
 * minute left the window, so memory stays fixed whatever the traffic.
 */
export class Timeline {
  readonly #slots: Array<Minute | undefined>;

  constructor(readonly windowMinutes: number) {
    this.#slots = new Array<Minute | undefined>(windowMinutes);
  }

  add(row: RequestRow): void {
    const slot = this.#slot(Math.floor(row.at / 60_000));
    if (row.backend !== undefined && row.cache !== 'hit' && row.cache !== 'semantic-hit') {
      let backend = slot.backends.get(row.backend);
      if (!backend) slot.backends.set(row.backend, (backend = { requests: 0, errors: 0, durations: [], ttfts: [] }));
      backend.requests++;
      if (row.status >= 400) backend.errors++;
      sample(backend.durations, row.durationMs, backend.requests);
      if (row.ttftMs !== undefined) sample(backend.ttfts, row.ttftMs, backend.requests);
    }
    if (row.cache === 'miss') slot.misses++;
    else if (row.cache === 'hit' || row.cache === 'semantic-hit') slot.hits[row.tier ?? row.cache] = (slot.hits[row.tier ?? row.cache] ?? 0) + 1;
  }

  /** The window's minutes, oldest first; minutes without traffic are left out. */
  points(now = Date.now()): MinutePoint[] {
    const current = Math.floor(now / 60_000);
    return this.#slots
      .filter((slot): slot is Minute => slot !== undefined && slot.minute > current - this.windowMinutes)
      .sort((a, b) => a.minute - b.minute)
      .map((slot) => ({
        at: slot.minute * 60_000,
        backends: Object.fromEntries(
          [...slot.backends].map(([name, b]) => [name, { requests: b.requests, errors: b.errors, p50Ms: percentile(b.durations, 50), p95Ms: percentile(b.durations, 95), ttftP50Ms: percentile(b.ttfts, 50) }]),
        ),
        hits: { ...slot.hits },
        misses: slot.misses,
      }));
  }

  #slot(minute: number): Minute {
    const index = minute % this.windowMinutes;
    let slot = this.#slots[index];
    if (slot?.minute !== minute) this.#slots[index] = slot = { minute, backends: new Map(), hits: {}, misses: 0 };
    return slot;
  }
}

/** Algorithm R: every value of the minute has the same chance to be in the sample. */
function sample(values: number[], value: number, seen: number): void {
  if (values.length < SAMPLES) values.push(value);
  else {
    const at = Math.floor(Math.random() * seen);
    if (at < SAMPLES) values[at] = value;
  }
}

function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
}
