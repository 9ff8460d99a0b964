import { z } from 'zod';
import type { UrlOrTunnel } from '../../../config/types.js';
import { tcpPort } from '../../../config/schema.js';
import { httpUrlOption, secretOption } from '../../../plugin-kit/backend-schema.js';
import { formatOption, type WithFormat } from '../self-hosted/index.js';

/** Own keys only: the provider of the entry's format checks the rest. */
export const vastAiOptions = z.looseObject({
  url: httpUrlOption.optional(),
  format: formatOption.optional(),
});

export const runpodOptions = z.looseObject({
  podId: z.string().regex(/^[a-z0-9]+$/, 'must be the pod ID RunPod shows (lower-case letters and digits)').optional(),
  port: tcpPort.optional(),
  endpointId: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be the endpoint ID RunPod shows').optional(),
  format: formatOption.optional(),
  apiKey: secretOption.optional(),
});

/** A vast.ai instance: an open port (`url`) or a `tunnel`. Format defaults to `openai`; first-byte timeout 300 s (cold starts). */
export type VastAiBackendConfig = { type: 'vast-ai' } & UrlOrTunnel & WithFormat<'openai'>;

/** A RunPod pod through RunPod's HTTPS proxy: `https://<podId>-<port>.proxy.runpod.net`. Format defaults to `openai`. */
export type RunPodPodBackendConfig = {
  type: 'runpod';
  podId: string;
  /** The pod's exposed HTTP port. Default 8000 (vLLM's). */
  port?: number;
} & WithFormat<'openai'>;

/** A RunPod serverless vLLM endpoint: `https://api.runpod.ai/v2/<endpointId>/openai/v1`, Bearer `RUNPOD_API_KEY` (default). */
export type RunPodServerlessBackendConfig = { type: 'runpod'; endpointId: string } & Extract<WithFormat<'openai'>, { format?: 'openai' }>;

declare module '../../../config/types.js' {
  interface BackendTypes {
    'vast-ai': VastAiBackendConfig;
    runpod: RunPodPodBackendConfig | RunPodServerlessBackendConfig;
  }
}
