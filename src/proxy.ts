import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ResolvedConfig, UserConfig } from './config/types.js';
import { ConfigError } from './errors.js';
import { BootWarnings } from './boot-warnings.js';
import { Kernel } from './kernel/kernel.js';
import { createLogger, type Logger, type LogSink, type RootLogger } from './logger.js';
import { assemblePlugins, resolveUserConfig } from './plugins/builtin.js';
import { collectSecrets } from './secrets/collect.js';
import { SecretScrubber } from './secrets/scrubber.js';

export interface ProxyOptions {
  logger?: Logger;
  /** Where log lines go (default stderr); ignored when `logger` is given. */
  logSink?: LogSink;
}

export interface Proxy {
  readonly config: ResolvedConfig;
  readonly kernel: Kernel;
  /** `http://host:port` once listening. */
  readonly url: string;
  readonly port: number;
  /** Port `0` or `'auto'` picks a free port. Resolves to the URL. */
  listen(port?: number | 'auto', host?: string): Promise<string>;
  /** Stop accepting, let open streams finish (up to `server.shutdownGraceMs`), close plugins. */
  close(): Promise<void>;
  switchBackend(name: string): void;
  /**
   * Apply a new config without a restart: new requests use it, open ones finish where they
   * started. An invalid config throws and leaves the running one in place.
   */
  reload(config: UserConfig | ResolvedConfig): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

const isResolved = (config: UserConfig | ResolvedConfig): config is ResolvedConfig =>
  Array.isArray((config as ResolvedConfig).sources) && typeof (config as ResolvedConfig).server?.bodyLimitBytes === 'number';

/** Every secret the config and the environment hold (the CLI masks them in its own output too). */
export { collectSecrets };

async function buildKernel(resolved: ResolvedConfig, logger: Logger, secrets: readonly string[], activeBackend = resolved.backend): Promise<Kernel> {
  return Kernel.create({
    plugins: assemblePlugins(resolved),
    backends: Object.entries(resolved.backends).map(([name, options]) => ({
      name,
      type: options.type,
      options: options as unknown as Readonly<Record<string, unknown>>,
      file: resolved.backendFiles?.[name],
    })),
    activeBackend,
    server: resolved.server,
    logger,
    scrubber: new SecretScrubber(secrets),
    configFile: resolved.filepath,
  });
}

/** Library entry point: `const proxy = await createProxy(config); await proxy.listen(0)`. */
export async function createProxy(config: UserConfig | ResolvedConfig, options: ProxyOptions = {}): Promise<Proxy> {
  // Library mode logs warnings and errors unless `logLevel` says otherwise (the CLI passes its resolved config, at `info`).
  let resolved = isResolved(config) ? config : await resolveUserConfig({ ...config, logLevel: config.logLevel ?? 'warn' });
  let secrets = collectSecrets(resolved);
  // Closed with the proxy only when it is the proxy's own.
  const own: RootLogger | undefined = options.logger
    ? undefined
    : createLogger({ level: resolved.logLevel, format: resolved.logFormat, sink: options.logSink, secrets: () => secrets, logFile: resolved.logFile });
  const logger = options.logger ?? own!;
  // A reload does not repeat what the previous boot warned about.
  const bootWarnings = new BootWarnings();
  const boot = async (config: ResolvedConfig, configSecrets: readonly string[], activeBackend?: string): Promise<Kernel> => {
    const { logger: bootLogger, done } = bootWarnings.boot(logger);
    const built = await buildKernel(config, bootLogger, configSecrets, activeBackend);
    done();
    return built;
  };
  let kernel = await boot(resolved, secrets);
  let handler = kernel.app.callback();

  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let closing: Promise<void> | undefined;

  const proxy: Proxy = {
    get config() {
      return resolved;
    },
    get kernel() {
      return kernel;
    },
    get port() {
      const address = server?.address() as AddressInfo | null | undefined;
      if (!address) throw new Error('the proxy is not listening; call listen() first');
      return address.port;
    },
    get url() {
      const address = server?.address() as AddressInfo | null | undefined;
      if (!address) throw new Error('the proxy is not listening; call listen() first');
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${host}:${address.port}`;
    },
    async listen(port = resolved.port, host = resolved.host) {
      if (!LOOPBACK_HOSTS.has(host) && resolved.auth.keys.length === 0) {
        throw new ConfigError(
          `refusing to listen on ${host} without client keys: anyone who reaches it could spend your backends. Set auth.keys or LLM_PROXY_API_KEYS, or listen on 127.0.0.1`,
          { field: 'auth.keys' },
        );
      }
      // Looked up per request, so a reload takes effect for new requests only.
      // Koa's callback settles every request through ctx.onerror: its promise never rejects.
      server = createServer((req, res) => void handler(req, res));
      server.keepAliveTimeout = 65_000;
      server.requestTimeout = 0;
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port === 'auto' ? 0 : port, host, () => {
          server!.off('error', reject);
          resolve();
        });
      });
      logger.debug('listening', { url: proxy.url });
      return proxy.url;
    },
    close() {
      closing ??= (async () => {
        if (server) {
          const stopped = new Promise<void>((resolve) => server!.close(() => resolve()));
          server.closeIdleConnections();
          await kernel.drain(resolved.server.shutdownGraceMs);
          for (const socket of sockets) socket.destroy();
          await stopped;
        }
        await kernel.close();
        own?.close();
      })();
      return closing;
    },
    async reload(next) {
      const fresh = isResolved(next) ? next : await resolveUserConfig(next);
      if (fresh.port !== resolved.port || fresh.host !== resolved.host) {
        logger.warn('the new config changes host or port; restart llm-proxy to apply that part');
      }
      if (fresh.logFile !== resolved.logFile) logger.warn('the new config changes logFile; restart llm-proxy to log to the new file');
      // A `switch` made at run time survives an edit that leaves `backend` alone.
      const keepActive = fresh.backend === resolved.backend && fresh.backends[kernel.backends.active] !== undefined;
      const freshSecrets = collectSecrets(fresh);
      const replacement = await boot(fresh, freshSecrets, keepActive ? kernel.backends.active : fresh.backend);
      const previous = kernel;
      kernel = replacement;
      handler = replacement.app.callback();
      resolved = fresh;
      secrets = freshSecrets;
      logger.info('configuration reloaded', { active: replacement.backends.active });
      void previous.drain(fresh.server.shutdownGraceMs).then(() => previous.close());
    },
    switchBackend(name) {
      kernel.backends.setActive(name);
      logger.info(`active backend is now ${name}`);
    },
  };
  return proxy;
}
