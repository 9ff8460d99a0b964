import type { z } from 'zod';
import { ConfigError } from '../../../errors.js';
import type { BackendSpec, Plugin, ProviderEnv } from '../../../kernel/types.js';
import { buildWithFormat } from '../self-hosted/index.js';
import { runpodOptions, vastAiOptions } from './options.js';

export type { RunPodPodBackendConfig, RunPodServerlessBackendConfig, VastAiBackendConfig } from './options.js';

/**
 * First-byte timeouts for rented GPUs: a stopped instance or a cold serverless worker loads the
 * model (tens of GB) before it sends headers. A larger `server.firstByteTimeoutMs` still wins.
 */
export const COLD_START_MS = { vastAi: 300_000, runpodPod: 300_000, runpodServerless: 600_000 } as const;

/** The vLLM server's default port, which RunPod's vLLM templates expose. */
export const RUNPOD_DEFAULT_PORT = 8000;

type Options = Readonly<Record<string, unknown>>;

/** The entry the format's provider builds: the preset's own keys taken out, URL and timeout filled in. */
function withColdStart(spec: BackendSpec, env: ProviderEnv, coldStartMs: number, options: Options): BackendSpec {
  const own = spec.options.firstByteTimeoutMs;
  const firstByteTimeoutMs = typeof own === 'number' ? own : Math.max(env.server.firstByteTimeoutMs, coldStartMs);
  return { ...spec, options: { ...options, firstByteTimeoutMs } };
}

function vastAi(spec: BackendSpec<z.output<typeof vastAiOptions>>, env: ProviderEnv): BackendSpec {
  if (spec.options.url === undefined) {
    throw new ConfigError("Required: the instance's open port as http://<public-ip>:<external-port>, or a `tunnel`", {
      file: spec.file,
      field: `backends.${spec.name}.url`,
    });
  }
  return withColdStart(spec, env, COLD_START_MS.vastAi, spec.options);
}

/** A pod through RunPod's HTTPS proxy, or a serverless vLLM endpoint; either way an ordinary URL for the delegate. */
function runpod(spec: BackendSpec<z.output<typeof runpodOptions>>, env: ProviderEnv): BackendSpec {
  const at = `backends.${spec.name}`;
  const { podId, endpointId, port: podPort, ...rest } = spec.options;
  const file = spec.file;
  if (spec.options.tunnel !== undefined) {
    throw new ConfigError('RunPod backends go through RunPod\'s HTTPS proxy; for an SSH tunnel to a pod use type "self-hosted" with `tunnel`', {
      file,
      field: `${at}.tunnel`,
    });
  }
  if ((podId === undefined) === (endpointId === undefined)) {
    throw new ConfigError('set exactly one of podId (a pod: https://<pod-id>-<port>.proxy.runpod.net) or endpointId (serverless vLLM)', {
      file,
      field: `${at}.${podId === undefined ? 'podId' : 'endpointId'}`,
    });
  }
  if (podId !== undefined) {
    const port = podPort ?? RUNPOD_DEFAULT_PORT;
    return withColdStart(spec, env, COLD_START_MS.runpodPod, { ...rest, url: `https://${podId}-${port}.proxy.runpod.net` });
  }
  if (spec.options.format !== undefined && spec.options.format !== 'openai') {
    throw new ConfigError('serverless endpoints speak OpenAI (the vLLM worker); remove `format`', { file, field: `${at}.format` });
  }
  const apiKey = (spec.options.apiKey || undefined) ?? process.env.RUNPOD_API_KEY;
  if (!apiKey) throw new ConfigError('RunPod serverless needs your API key: set RUNPOD_API_KEY (or apiKey)', { file, field: `${at}.apiKey` });
  const url = `https://api.runpod.ai/v2/${endpointId}/openai/v1`;
  return withColdStart(spec, env, COLD_START_MS.runpodServerless, { ...rest, url, apiKey, format: 'openai' });
}

/**
 * Built-in: backend types `vast-ai` and `runpod`. Each fills in the URL, format and a longer
 * first-byte timeout, then builds the backend with the provider of its format (openai,
 * anthropic, or the ollama plugin's).
 */
export function presetsProvider(): Plugin {
  return {
    name: 'presets-provider',
    dependencies: ['openai-provider', 'anthropic-provider'],
    apply({ providers }) {
      providers.register('vast-ai', {
        options: vastAiOptions,
        create: (spec, env) => buildWithFormat(providers, spec.options.format ?? 'openai', vastAi(spec, env), env),
      });
      providers.register('runpod', {
        options: runpodOptions,
        create: (spec, env) => buildWithFormat(providers, spec.options.format ?? 'openai', runpod(spec, env), env),
      });
    },
  };
}
