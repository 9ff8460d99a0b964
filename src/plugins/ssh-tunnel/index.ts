import { validateTunnel } from '../../config/schema.js';
import { ConfigError } from '../../errors.js';
import type { BackendSpec, HealthState, Plugin, StatusSection } from '../../kernel/types.js';
import { optionalString } from '../../plugin-kit/options.js';
import { withInvoke } from '../../plugin-kit/with-invoke.js';
import { parsePluginOptions } from '../../plugin-kit/plugin-options.js';
import { freePort } from './local-port.js';
import { sshTunnelOptions, type SshTunnelOptions } from './options.js';
import { Tunnel, type TunnelSettings } from './process.js';

export { sshTunnelOptions, type SshTunnelOptions } from './options.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The tunnel's settings and the backend's new `url`: its local end, keeping the path of a
 * configured `url` (`http://localhost:8001/v1`). The local port is `tunnel.localPort`, else
 * the url's port, else a free one.
 */
export async function planTunnel(spec: BackendSpec): Promise<{ settings: TunnelSettings; url: string }> {
  const at = spec.endpoint === undefined ? `backends.${spec.name}` : `backends.${spec.name} (endpoint ${spec.endpoint})`;
  const tunnel = validateTunnel(spec.options.tunnel, `${at}.tunnel`);
  const configured = optionalString(spec.options, 'url', at);
  const url = new URL(configured ?? 'http://127.0.0.1');
  if (!LOOPBACK.has(url.hostname)) {
    throw new ConfigError('with a tunnel, url must point at its local end (http://127.0.0.1:<localPort>) or be left out', { field: `${at}.url` });
  }
  const urlPort = url.port === '' ? undefined : Number(url.port);
  if (urlPort !== undefined && tunnel.localPort !== undefined && urlPort !== tunnel.localPort) {
    throw new ConfigError(`the url's port ${urlPort} differs from tunnel.localPort ${tunnel.localPort}; give one of them`, { field: `${at}.url` });
  }
  const localPort = tunnel.localPort ?? urlPort ?? (await freePort());
  url.hostname = '127.0.0.1';
  url.port = String(localPort);
  const settings: TunnelSettings = {
    backend: tunnelKey(spec),
    host: tunnel.host,
    port: tunnel.port ?? 22,
    user: tunnel.user,
    identityFile: tunnel.identityFile,
    knownHostsFile: tunnel.knownHostsFile,
    remoteHost: tunnel.remoteHost ?? '127.0.0.1',
    remotePort: tunnel.remotePort,
    localPort,
    readyTimeoutMs: tunnel.readyTimeoutMs ?? 30_000,
  };
  return { settings, url: configured === undefined ? url.origin : url.href };
}

/** A backend's name, or `<name> <endpoint>` for one of several endpoints. */
function tunnelKey(spec: BackendSpec): string {
  return spec.endpoint === undefined ? spec.name : `${spec.name} ${spec.endpoint}`;
}

function statusOf(tunnels: ReadonlyMap<string, Tunnel>): StatusSection {
  const states = [...tunnels.values()].map((t) => t.state);
  const status: HealthState = states.every((s) => s === 'up')
    ? 'ok'
    : states.every((s) => s === 'up' || s === 'starting')
      ? 'degraded'
      : 'down';
  return { status, backends: Object.fromEntries([...tunnels].map(([name, tunnel]) => [name, tunnel.report()])) };
}

/**
 * Built-in: keeps an `ssh -N -L` open for every backend that declares `tunnel`, and points
 * the backend's `url` at its local end (a spec rewrite, before the backend is built).
 * Requests wait for the tunnel in the backend's `invoke` (a decorator) — after the cache
 * lookup, so cached answers are served while it is down. Each endpoint of a backend with
 * several has its own tunnel.
 */
export function sshTunnel(options: SshTunnelOptions = {}): Plugin {
  const { command } = parsePluginOptions('ssh-tunnel', sshTunnelOptions, options);
  const tunnels = new Map<string, Tunnel>();
  const killAll = (): void => {
    for (const tunnel of tunnels.values()) tunnel.killNow();
  };
  return {
    name: 'ssh-tunnel',
    apply({ providers, status, logger }) {
      providers.rewrite(async (spec) => {
        if (spec.options.tunnel === undefined) return spec;
        const { settings, url } = await planTunnel(spec);
        tunnels.set(tunnelKey(spec), new Tunnel(settings, logger, command));
        if (tunnels.size === 1) status.add('tunnels', () => statusOf(tunnels));
        return { ...spec, options: { ...spec.options, url } };
      });
      providers.decorate((backend, spec) => {
        const tunnel = tunnels.get(tunnelKey(spec));
        return tunnel ? withInvoke(backend, async (call, invoke) => {
          await tunnel.whenUp(call.signal);
          return invoke(call);
        }) : backend;
      });
    },
    ready() {
      if (tunnels.size === 0) return;
      // A proxy that dies without close() must not leave ssh holding the port.
      process.on('exit', killAll);
      for (const tunnel of tunnels.values()) tunnel.start();
    },
    async close() {
      process.off('exit', killAll);
      await Promise.all([...tunnels.values()].map((tunnel) => tunnel.stop()));
    },
  };
}
