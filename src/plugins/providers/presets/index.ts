import { ConfigError } from '../../../errors.js';
import type { BackendSpec, Plugin, ProviderEnv } from '../../../kernel/types.js';
import { optionalNumber, optionalString } from '../../../plugin-kit/options.js';
import { buildWithFormat, formatOf } from '../self-hosted/index.js';

/**
 * First-byte timeouts for rented GPUs: a stopped instance or a cold serverless worker loads the
 * model (tens of GB) before it sends headers. A larger `server.firstByteTimeoutMs` still wins.
 */
export const COLD_START_MS = { vastAi: 300_000, runpodPod: 300_000, runpodServerless: 600_000 } as const;

/** The vLLM server's default port, which RunPod's vLLM templates expose. */
export const RUNPOD_DEFAULT_PORT = 8000;

function withColdStart(spec: BackendSpec, env: ProviderEnv, coldStartMs: number, extra: Record<string, unknown> = {}): BackendSpec {
  const own = optionalNumber(spec.options, 'firstByteTimeoutMs', `backends.${spec.name}`);
  const firstByteTimeoutMs = own ?? Math.max(env.server.firstByteTimeoutMs, coldStartMs);
  return { ...spec, options: { ...spec.options, ...extra, firstByteTimeoutMs } };
}

function vastAi(spec: BackendSpec, env: ProviderEnv): BackendSpec {
  if (optionalString(spec.options, 'url', `backends.${spec.name}`) === undefined) {
    throw new ConfigError("Required: the instance's open port as http://<public-ip>:<external-port>, or a `tunnel`", {
      field: `backends.${spec.name}.url`,
    });
  }
  return withColdStart(spec, env, COLD_START_MS.vastAi);
}

/** A pod through RunPod's HTTPS proxy, or a serverless vLLM endpoint; either way an ordinary URL for the delegate. */
function runpod(spec: BackendSpec, env: ProviderEnv): BackendSpec {
  const at = `backends.${spec.name}`;
  const podId = optionalString(spec.options, 'podId', at);
  const endpointId = optionalString(spec.options, 'endpointId', at);
  if (spec.options.tunnel !== undefined) {
    throw new ConfigError('RunPod backends go through RunPod\'s HTTPS proxy; for an SSH tunnel to a pod use type "self-hosted" with `tunnel`', {
      field: `${at}.tunnel`,
    });
  }
  if ((podId === undefined) === (endpointId === undefined)) {
    throw new ConfigError('set exactly one of podId (a pod: https://<pod-id>-<port>.proxy.runpod.net) or endpointId (serverless vLLM)', {
      field: `${at}.${podId === undefined ? 'podId' : 'endpointId'}`,
    });
  }
  if (podId !== undefined) {
    const port = optionalNumber(spec.options, 'port', at) ?? RUNPOD_DEFAULT_PORT;
    return withColdStart(spec, env, COLD_START_MS.runpodPod, { url: `https://${podId}-${port}.proxy.runpod.net` });
  }
  if (spec.options.format !== undefined && spec.options.format !== 'openai') {
    throw new ConfigError('serverless endpoints speak OpenAI (the vLLM worker); remove `format`', { field: `${at}.format` });
  }
  const apiKey = optionalString(spec.options, 'apiKey', at) ?? process.env.RUNPOD_API_KEY;
  if (!apiKey) throw new ConfigError('RunPod serverless needs your API key: set RUNPOD_API_KEY (or apiKey)', { field: `${at}.apiKey` });
  const url = `https://api.runpod.ai/v2/${endpointId}/openai/v1`;
  return withColdStart(spec, env, COLD_START_MS.runpodServerless, { url, apiKey, format: 'openai' });
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
      providers.register('vast-ai', (spec, env) => buildWithFormat(providers, formatOf(spec, 'openai'), vastAi(spec, env), env));
      providers.register('runpod', (spec, env) => buildWithFormat(providers, formatOf(spec, 'openai'), runpod(spec, env), env));
    },
  };
}
