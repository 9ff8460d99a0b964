import type { Backend, BackendHealth } from '../backends/types.js';

/** A backend's own health check, bounded by `timeoutMs` even when it ignores its signal; never throws. */
export async function probeBackend(backend: Backend, timeoutMs: number): Promise<BackendHealth> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<BackendHealth>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'down', detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const started = Date.now();
  const checked = backend
    .health(AbortSignal.timeout(timeoutMs))
    .catch((error: unknown): BackendHealth => ({ status: 'down', latencyMs: Date.now() - started, detail: error instanceof Error ? error.message : String(error) }));
  try {
    return await Promise.race([checked, late]);
  } finally {
    clearTimeout(timer);
  }
}
