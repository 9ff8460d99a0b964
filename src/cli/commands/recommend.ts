import pc from 'picocolors';
import type { StatusSection } from '../../kernel/types.js';
import { createProxy } from '../../proxy.js';
import { SecretScrubber } from '../../secrets/scrubber.js';
import { secretsOf } from '../claude-env.js';
import { CliError } from '../errors.js';
import { listInstances, selectInstance } from '../instances.js';
import { loadCliConfig } from '../load-config.js';
import { parseFixedPort, stringOption } from '../options.js';
import { llmProxyHome, workspaceDir } from '../paths.js';
import { recommend, type BackendView, type Recommendation } from '../recommend.js';
import { STATUS_EXIT } from '../status-exit.js';
import { HEALTH_MARK, out } from '../ui.js';
import { statusOf, type InstanceStatus } from './status.js';

export interface RecommendOptions {
  json?: boolean;
  port?: unknown;
  workspace?: unknown;
  config?: unknown;
}

const PROBE_TIMEOUT_MS = 5_000;

/** `llm-proxy recommend`: which backend to use now and why, from the running proxy's state or from probes. */
export async function recommendCommand(options: RecommendOptions): Promise<number> {
  const home = llmProxyHome();
  const workspace = workspaceDir(stringOption(options.workspace, '--workspace'));
  const instance = selectInstance(await listInstances(home), { workspace, port: parseFixedPort(options.port), fallbackToOnly: true });
  const result = instance ? fromRunning(await statusOf(instance, home)) : await fromProbes(workspace, home, stringOption(options.config, '--config'));
  if (options.json) out(JSON.stringify(result, null, 2));
  else print(result);
  return result.use === undefined ? STATUS_EXIT.backendDown : STATUS_EXIT.ok;
}

function fromRunning(status: InstanceStatus): Recommendation {
  if (!status.reachable) {
    throw new CliError(`the llm-proxy at ${status.url} does not answer: ${status.error ?? 'no answer'}`, {
      hints: ['`llm-proxy status` shows the running proxies; stop it and start it again'],
    });
  }
  const limits = status.plugins?.['rate-limits'];
  const views = (status.backends ?? []).map(
    (b): BackendView => ({
      name: b.name,
      active: b.active,
      health: b.health,
      ...(b.latencyMs !== undefined ? { latencyMs: b.latencyMs } : {}),
      ...(b.detail ? { detail: b.detail } : {}),
      ...quotaOf(limits, b.name),
    }),
  );
  return recommend('running proxy', views);
}

function quotaOf(section: StatusSection | undefined, name: string): Pick<BackendView, 'quota' | 'exhausted'> {
  const lines = section?.backends;
  const line = lines !== null && typeof lines === 'object' ? (lines as Record<string, unknown>)[name] : undefined;
  const spent = Array.isArray(section?.exhausted) && section.exhausted.includes(name);
  return { ...(typeof line === 'string' ? { quota: line } : {}), exhausted: spent };
}

/** No proxy runs: build the configured backends (nothing listens), probe each once, and close them. */
async function fromProbes(workspace: string, home: string, configFile: string | undefined): Promise<Recommendation> {
  const config = await loadCliConfig({ workspace, home, configFile, quiet: true });
  const proxy = await createProxy({ ...config, logLevel: 'silent' }, { logSink: () => undefined });
  try {
    const { backends } = proxy.kernel;
    const views = await Promise.all(
      backends.names().map(async (name): Promise<BackendView> => {
        const health = await backends.get(name)!.health(AbortSignal.timeout(PROBE_TIMEOUT_MS)).catch(() => ({ status: 'down' as const }));
        return {
          name,
          active: name === backends.active,
          health: health.status,
          ...('latencyMs' in health && health.latencyMs !== undefined ? { latencyMs: health.latencyMs } : {}),
          ...('detail' in health && health.detail ? { detail: health.detail } : {}),
          exhausted: false,
        };
      }),
    );
    // A probe's detail quotes the backend's answer, which may echo the key it was sent.
    return new SecretScrubber(secretsOf(config)).value(recommend('probes', views));
  } finally {
    await proxy.close();
  }
}

function print(result: Recommendation): void {
  const width = Math.max(0, ...result.backends.map((b) => b.name.length));
  for (const b of result.backends) {
    const mark = b.exhausted ? HEALTH_MARK.degraded : HEALTH_MARK[b.health];
    const padded = b.name.padEnd(width);
    const name = b.name === result.use ? pc.bold(padded) : padded;
    const state = b.exhausted ? pc.yellow('quota used up') : b.health === 'ok' ? pc.green('ok') : b.health === 'down' ? pc.red(b.health) : pc.yellow(b.health);
    const latency = b.latencyMs !== undefined ? pc.dim(` ${b.latencyMs} ms`) : '';
    const tags = [b.active && 'active', b.name === result.use && 'recommended'].filter(Boolean).join(', ');
    out(`${mark} ${name}  ${state}${latency}${tags ? pc.dim(`  (${tags})`) : ''}`);
    if (b.quota) out(pc.dim(`    ${b.quota}`));
    if (b.detail && b.health !== 'ok') out(pc.dim(`    ${b.detail}`));
  }
  out();
  const from = result.source === 'running proxy' ? 'from the running proxy' : 'from probes just now; no proxy is running, so the quota is unknown';
  out(`${result.use ? pc.green('→') : pc.red('✗')} ${result.reason} ${pc.dim(`(${from})`)}`);
  if (result.command) out(`  ${pc.cyan(result.command)}`);
}
