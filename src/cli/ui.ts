import pc from 'picocolors';
import type { ResolvedConfig } from '../config/types.js';
import { redactUrl } from '../secrets/redact-url.js';
import type { HealthState } from '../kernel/types.js';

export const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};
export const err = (line = ''): void => {
  process.stderr.write(line + '\n');
};

export const HEALTH_MARK: Record<HealthState, string> = {
  ok: pc.green('✓'),
  degraded: pc.yellow('!'),
  unknown: pc.yellow('?'),
  down: pc.red('✗'),
};


/** `cerebras (model gpt-oss-120b)`, `openai http://127.0.0.1:11434/v1 (model qwen3-coder:30b)`; never a key. */
export function describeBackendConfig(config: ResolvedConfig, name: string): string {
  const backend = config.backends[name];
  if (!backend) return name;
  const url = 'url' in backend && typeof backend.url === 'string' ? ` ${redactUrl(backend.url)}` : '';
  const model = typeof backend.model === 'string' ? ` (model ${backend.model})` : '';
  return `${pc.bold(name)}: ${backend.type}${url}${model}`;
}

export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const s = Math.floor(seconds % 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

/** The lines `start` and `code` print about where the config came from. */
export function configSourceLines(config: ResolvedConfig): string[] {
  const lines = [`  config:  ${config.sources.join(', ')}`];
  if (config.sources.includes('embedded default')) {
    const what = config.filepath ? 'no backends configured' : 'no config file found';
    lines.push(
      `  ${pc.yellow(what)}: using the embedded default (local Ollama at http://127.0.0.1:11434).`,
      `  Run ${pc.cyan('llm-proxy setup')} to create a config.`,
    );
  }
  return lines;
}

/**
 * `REDIS_URL` (or the older `REDIS_HOST`) alone does not turn the Redis tier on: on a developer
 * machine it often belongs to another application, and the cache would store prompts and answers
 * there. Said once at start, so nobody believes answers are shared when they are not.
 */
export function redisHintLines(config: ResolvedConfig, env: NodeJS.ProcessEnv): string[] {
  const variable = env.REDIS_URL ? 'REDIS_URL' : env.REDIS_HOST ? 'REDIS_HOST' : undefined;
  if (!variable || config.plugins.some((plugin) => plugin.name === 'redis-cache')) return [];
  return [`  cache:   in memory; ${variable} is set, but the Redis tier is off until plugins lists "redis-cache" (it then uses ${variable})`];
}
