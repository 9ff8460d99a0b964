import type { ConnectionOptions } from 'node:tls';
import { ConfigError, isRecord, parsePluginOptions, positiveNumberOption, sizeOption, stringOption, urlCredentials, z } from '../../src/plugin.js';

const REDIS_URL = /^rediss?:\/\//i;
const URL_MESSAGE = 'must be a redis:// or rediss:// URL';
const NODE = 'must be "host:port" or { host, port }';
const NODES = 'must list at least one node as "host:port" or { host, port }';
const TLS = 'must be true, false or node:tls options';

/** A seed node, `host:port` (a `redis://` prefix and `[ipv6]` brackets allowed) or `{ host, port }`. */
const clusterNode = z
  .union([z.string(), z.object({ host: z.string(), port: z.number() })], { error: NODE })
  .transform((node, ctx) => {
    const parsed = typeof node === 'string' ? /^(?:rediss?:\/\/)?\[?([^\]]+?)\]?:(\d+)\/?$/.exec(node) : undefined;
    const host = typeof node === 'string' ? parsed?.[1] : node.host;
    const port = typeof node === 'string' ? Number(parsed?.[2]) : node.port;
    if (host === undefined || host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
      ctx.addIssue({ code: 'custom', message: NODE, input: node });
      return z.NEVER;
    }
    return { host, port };
  });

/** The connection options every Redis-backed plugin accepts (`semantic-cache` takes them too). */
export const redisConnectionShape = {
  /** `redis://[user:password@]host:port[/db]`, `rediss://` for TLS. Default: `REDIS_URL`, else `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD`, else `redis://127.0.0.1:6379`. */
  url: stringOption.refine((url) => url === undefined || REDIS_URL.test(url), URL_MESSAGE).optional(),
  /** Password when the URL carries none (default `REDIS_PASSWORD`). */
  password: stringOption.optional(),
  /** TLS: `true`, or node:tls options (`ca`, `servername`, `rejectUnauthorized`, ...). */
  tls: z.union([z.boolean(), z.custom<ConnectionOptions>(isRecord, { error: TLS })], { error: TLS }).optional(),
  /** Redis Cluster: seed nodes as `host:port` or `{ host, port }`; `url` is then ignored. */
  cluster: z.object({ nodes: z.array(clusterNode, { error: NODES }).min(1, NODES) }, { error: NODES }).optional(),
  /** Each Redis command gets this long before the request goes on without it; default 150 ms. */
  operationTimeoutMs: positiveNumberOption.optional(),
  /** How long start-up waits for the first connection (it never fails start-up); default 2000 ms. */
  connectTimeoutMs: positiveNumberOption.optional(),
};

/** The connection options as checked. */
export type RedisConnectionOptions = z.output<z.ZodObject<typeof redisConnectionShape>>;

/** `["redis-cache", {...}]`: an unknown key is an error. */
export const redisCacheOptions = z.strictObject({
  ...redisConnectionShape,
  /** Default 86400 (24 h); a backend's `cache.ttlSeconds` replaces it. */
  ttlSeconds: positiveNumberOption.optional(),
  /** Values larger than this (bytes of JSON) are compressed; default 16 KB. */
  compressAbove: sizeOption.optional(),
  compression: z.enum(['brotli', 'gzip'], { error: 'must be "brotli" or "gzip"' }).optional(),
  /** Larger answers (bytes of JSON, before compression) are not stored; default 4 MB. */
  maxEntryBytes: sizeOption.optional(),
});

export type RedisCacheOptions = z.input<typeof redisCacheOptions>;

/** Where Redis is and how to talk to it: what every Redis-backed plugin shares. */
export interface RedisConnection {
  mode: 'single' | 'cluster';
  url: string;
  nodes: Array<{ host: string; port: number }>;
  password: string | undefined;
  tls: ConnectionOptions | undefined;
  operationTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface RedisSettings extends RedisConnection {
  ttlSeconds: number;
  compressAbove: number;
  compression: 'brotli' | 'gzip';
  maxEntryBytes: number;
}

/** Checks the options at start-up (errors name the field) and fills in the environment and defaults. */
export function resolveRedisSettings(options: RedisCacheOptions, env: NodeJS.ProcessEnv = process.env): RedisSettings {
  const checked = parsePluginOptions('redis-cache', redisCacheOptions, options);
  return {
    ...resolveRedisConnection(checked, 'plugins.redis-cache', env),
    ttlSeconds: checked.ttlSeconds ?? 86_400,
    compressAbove: checked.compressAbove ?? 16 * 1024,
    compression: checked.compression ?? 'brotli',
    maxEntryBytes: checked.maxEntryBytes ?? 4 * 1024 ** 2,
  };
}

/**
 * The checked connection options with `url` (else `REDIS_URL`, else the older `REDIS_HOST` /
 * `REDIS_PORT`), `REDIS_PASSWORD` and the defaults filled in; `at` names the options in errors.
 */
export function resolveRedisConnection(options: RedisConnectionOptions, at: string, env: NodeJS.ProcessEnv = process.env): RedisConnection {
  const url = options.url ?? env.REDIS_URL ?? legacyUrl(env);
  if (!REDIS_URL.test(url)) throw new ConfigError(URL_MESSAGE, { field: `${at}.url` });
  return {
    mode: options.cluster === undefined ? 'single' : 'cluster',
    url,
    nodes: options.cluster?.nodes ?? [],
    password: options.password ?? (env.REDIS_PASSWORD || undefined),
    tls: options.tls === undefined || options.tls === false ? undefined : options.tls === true ? {} : options.tls,
    operationTimeoutMs: options.operationTimeoutMs ?? 150,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
  };
}

/** The connection's password and the credentials in its URL, for a plugin's `secrets`. */
export function redisSecrets(connection: RedisConnection): string[] {
  return [...(connection.password ? [connection.password] : []), ...urlCredentials(connection.url)];
}

function legacyUrl(env: NodeJS.ProcessEnv): string {
  return `redis://${env.REDIS_HOST || '127.0.0.1'}:${env.REDIS_PORT || '6379'}`;
}
