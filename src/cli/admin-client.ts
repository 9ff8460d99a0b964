import type { ResolvedConfig } from '../config/types.js';
import type { StatusReport } from '../plugins/endpoints/admin/index.js';
import { CliError } from './errors.js';
import { describeInstance, type InstanceRecord } from './instances.js';
import { loadCliConfig } from './load-config.js';

export interface SwitchResult {
  active: string;
  previous: string;
}

interface AdminContext {
  home: string;
  env?: NodeJS.ProcessEnv;
}

const TIMEOUT_MS = 15_000;

/** The config an instance was most likely started with (same workspace and file), if it still loads. */
export async function instanceConfig(instance: InstanceRecord, ctx: AdminContext): Promise<ResolvedConfig | undefined> {
  return loadCliConfig({
    workspace: instance.workspace,
    configFile: instance.configFile ?? undefined,
    home: ctx.home,
    quiet: true,
    env: ctx.env ?? process.env,
  }).catch(() => undefined);
}

/** The client key to present when the proxy has `auth.keys`: `LLM_PROXY_API_KEY`, else the instance's own config. */
async function clientKey(instance: InstanceRecord, ctx: AdminContext): Promise<string | undefined> {
  const env = ctx.env ?? process.env;
  if (env.LLM_PROXY_API_KEY) return env.LLM_PROXY_API_KEY;
  return (await instanceConfig(instance, ctx))?.auth.keys[0];
}

async function send(instance: InstanceRecord, path: string, init: RequestInit, key: string | undefined): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key) headers.set('x-api-key', key);
  try {
    return await fetch(new URL(path, instance.url), { ...init, headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.name : '');
    const why =
      cause === 'ECONNREFUSED' ? 'connection refused' : cause === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : `request failed (${cause || 'unknown reason'})`;
    throw new CliError(`could not reach llm-proxy at ${describeInstance(instance)}: ${why}`, {
      hints: ['it may still be starting, or have crashed: check its terminal or log', 'restart it with `llm-proxy start`'],
    });
  }
}

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    // The proxy prefixes client-facing messages with "[llm-proxy] "; here the context is obvious.
    if (typeof body.error?.message === 'string') return body.error.message.replace(/^\[llm-proxy\] /, '');
  } catch {
    // not JSON
  }
  return `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

/** One admin call; retries once with a client key when the proxy requires one. */
async function adminRequest<T>(instance: InstanceRecord, path: string, init: RequestInit, ctx: AdminContext): Promise<T> {
  let response = await send(instance, path, init, undefined);
  if (response.status === 401) {
    await response.body?.cancel();
    const key = await clientKey(instance, ctx);
    if (key) response = await send(instance, path, init, key);
    if (response.status === 401) {
      await response.body?.cancel();
      throw new CliError(`llm-proxy at ${instance.url} requires a client key`, {
        hints: ['set LLM_PROXY_API_KEY to one of its auth.keys'],
      });
    }
  }
  if (!response.ok) throw new CliError(await errorMessage(response));
  return (await response.json()) as T;
}

export const fetchStatus = (instance: InstanceRecord, ctx: AdminContext): Promise<StatusReport> =>
  adminRequest<StatusReport>(instance, '/_llm-proxy/status', { method: 'GET' }, ctx);

export const requestSwitch = (instance: InstanceRecord, backend: string, ctx: AdminContext): Promise<SwitchResult> =>
  adminRequest<SwitchResult>(
    instance,
    '/_llm-proxy/switch',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ backend }) },
    ctx,
  );
