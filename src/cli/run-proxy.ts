import type { ResolvedConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { createProxy, type Proxy } from '../proxy.js';
import { VERSION } from '../version.js';
import { CliError } from './errors.js';
import { tuneHeapForStreams } from './heap-tuning.js';
import { listInstances, removeInstanceSync, writeInstance, type InstanceRecord } from './instances.js';
import { autoPortCandidates, recordedPort, recordPort } from './workspace-port.js';

export interface RunningProxy {
  proxy: Proxy;
  record: InstanceRecord;
  /** Drains open streams (up to the grace period), closes plugins, removes the instance record. */
  stop(): Promise<void>;
  /** For a second signal: drop the record and let the process die. */
  forget(): void;
}

export interface RunProxyOptions {
  config: ResolvedConfig;
  logger: Logger;
  workspace: string;
  home: string;
}

/** A wildcard listen address is not something a client can connect to; loopback is. */
export function clientUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.hostname === '0.0.0.0') parsed.hostname = '127.0.0.1';
  else if (parsed.hostname === '[::]') parsed.hostname = '[::1]';
  return parsed.origin;
}

function listenError(error: unknown, port: number | 'auto', host: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') {
    return new CliError(`port ${port} on ${host} is already in use`, {
      hints: ['another llm-proxy may hold it: see `llm-proxy status`', 'or pick another with --port N or --port auto'],
    });
  }
  if (code === 'EACCES') return new CliError(`not allowed to listen on port ${port}`, { hints: ['use a port above 1023, or --port auto'] });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new CliError(`cannot listen on host ${host}: no such local address`, { hints: ['use --host 127.0.0.1'] });
  }
  return error;
}

const TAKEN = new Set(['EADDRINUSE', 'EACCES']);

/**
 * `port: "auto"`: this workspace's port (recorded, else derived from its path), else the next
 * free one, recorded for the next start unless another proxy of the same workspace runs (then
 * this one is the extra and the record stays the first one's). Any free port if the range is full.
 */
async function listenAuto(proxy: Proxy, host: string, workspace: string, home: string): Promise<string> {
  for (const port of await autoPortCandidates(home, workspace)) {
    let url: string;
    try {
      url = await proxy.listen(port, host);
    } catch (error) {
      if (TAKEN.has((error as NodeJS.ErrnoException | null)?.code ?? '')) continue;
      throw error;
    }
    const twin = (await listInstances(home)).some((i) => i.workspace === workspace && i.pid !== process.pid);
    if (!twin && (await recordedPort(home, workspace)) !== port) await recordPort(home, workspace, port);
    return url;
  }
  return proxy.listen(0, host);
}

export async function runProxy(options: RunProxyOptions): Promise<RunningProxy> {
  const { config, logger, workspace, home } = options;
  tuneHeapForStreams();
  const proxy = await createProxy(config, { logger });
  let url: string;
  try {
    url = clientUrl(config.port === 'auto' ? await listenAuto(proxy, config.host, workspace, home) : await proxy.listen(config.port, config.host));
  } catch (error) {
    await proxy.close().catch(() => undefined);
    throw listenError(error, config.port, config.host);
  }
  const record: InstanceRecord = {
    pid: process.pid,
    url,
    port: proxy.port,
    host: config.host,
    workspace,
    configFile: config.filepath ?? null,
    startedAt: new Date().toISOString(),
    version: VERSION,
  };
  const file = await writeInstance(home, record);
  const onExit = () => removeInstanceSync(file);
  process.on('exit', onExit);

  let stopping: Promise<void> | undefined;
  return {
    proxy,
    record,
    stop() {
      stopping ??= proxy.close().finally(() => {
        removeInstanceSync(file);
        process.off('exit', onExit);
      });
      return stopping;
    },
    forget: onExit,
  };
}
