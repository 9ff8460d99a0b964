import type { ConnectionOptions } from 'node:tls';
import { isRecord } from '../../src/plugin.js';
import { ConfigError } from '../../src/plugin.js';
import { optionalNumber, optionalSize, optionalString } from '../../src/plugin.js';
import { urlCredentials } from '../../src/plugin.js';

export interface RedisCacheOptions {
  /** `redis://[user:password@]host:port[/db]`, `rediss://` for TLS. Default: `REDIS_URL`, else `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD`, else `redis://127.0.0.1:6379`. */
  url?: string;
  /** Password when the URL carries none (default `REDIS_PASSWORD`). */
  password?: string;
  /** TLS: `true`, or node:tls options (`ca`, `servername`, `rejectUnauthorized`, ...). */
  tls?: boolean | ConnectionOptions;
  /** Redis Cluster: seed nodes as `host:port` or `{ host, port }`; `url` is then ignored. */
  cluster?: { nodes: Array<string | { host: string; port: number }> };
  /** Default 86400 (24 h); a backend's `cache.ttlSeconds` replaces it. */
  ttlSeconds?: number;
  /** Values larger than this (bytes of JSON) are compressed; default 16 KB. */
  compressAbove?: number | string;
  compression?: 'brotli' | 'gzip';
  /** Larger answers (bytes of JSON, before compression) are not stored; default 4 MB. */
  maxEntryBytes?: number | string;
  /** Each Redis command gets this long before the request goes on without it; default 150 ms. */
  operationTimeoutMs?: number;
  /** How long start-up waits for the first connection (it never fails start-up); default 2000 ms. */
  connectTimeoutMs?: number;
}

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

/** The connection options (`url`, `password`, `tls`, `cluster`, timeouts) every Redis-backed plugin accepts. */
export const REDIS_CONNECTION_OPTIONS = ['url', 'password', 'tls', 'cluster', 'operationTimeoutMs', 'connectTimeoutMs'] as const;

const AT = 'plugins.redis-cache';
const KNOWN = new Set<string>([...REDIS_CONNECTION_OPTIONS, 'ttlSeconds', 'compressAbove', 'compression', 'maxEntryBytes']);

/** Checks the options at start-up (errors name the field) and fills in the environment and defaults. */
export function resolveRedisSettings(options: RedisCacheOptions, env: NodeJS.ProcessEnv = process.env): RedisSettings {
  const raw: Readonly<Record<string, unknown>> = isRecord(options) ? options : {};
  rejectUnknownOptions(raw, KNOWN, AT);
  const compression = raw.compression ?? 'brotli';
  if (compression !== 'brotli' && compression !== 'gzip') throw new ConfigError('must be "brotli" or "gzip"', { field: `${AT}.compression` });
  return {
    ...resolveRedisConnection(raw, AT, env),
    ttlSeconds: optionalNumber(raw, 'ttlSeconds', AT) ?? 86_400,
    compressAbove: optionalSize(raw, 'compressAbove', AT) ?? 16 * 1024,
    compression,
    maxEntryBytes: optionalSize(raw, 'maxEntryBytes', AT) ?? 4 * 1024 ** 2,
  };
}

export function rejectUnknownOptions(raw: Readonly<Record<string, unknown>>, known: ReadonlySet<string>, at: string): void {
  const unknown = Object.keys(raw).find((key) => !known.has(key));
  if (unknown !== undefined) throw new ConfigError(`unknown option (known: ${[...known].join(', ')})`, { field: `${at}.${unknown}` });
}

/** `url` (else `REDIS_URL`, else the older `REDIS_HOST` / `REDIS_PORT`), `password`, `tls`, `cluster` and the timeouts, checked under `at`. */
export function resolveRedisConnection(raw: Readonly<Record<string, unknown>>, at: string, env: NodeJS.ProcessEnv = process.env): RedisConnection {
  const url = optionalString(raw, 'url', at) ?? env.REDIS_URL ?? legacyUrl(env);
  if (!/^rediss?:\/\//i.test(url)) throw new ConfigError('must be a redis:// or rediss:// URL', { field: `${at}.url` });
  return {
    mode: raw.cluster === undefined ? 'single' : 'cluster',
    url,
    nodes: raw.cluster === undefined ? [] : clusterNodes(raw.cluster, at),
    password: optionalString(raw, 'password', at) ?? (env.REDIS_PASSWORD || undefined),
    tls: tlsOf(raw.tls, at),
    operationTimeoutMs: optionalNumber(raw, 'operationTimeoutMs', at) ?? 150,
    connectTimeoutMs: optionalNumber(raw, 'connectTimeoutMs', at) ?? 2000,
  };
}

/** The connection's password and the credentials in its URL, for a plugin's `secrets`. */
export function redisSecrets(connection: RedisConnection): string[] {
  return [...(connection.password ? [connection.password] : []), ...urlCredentials(connection.url)];
}

function legacyUrl(env: NodeJS.ProcessEnv): string {
  return `redis://${env.REDIS_HOST || '127.0.0.1'}:${env.REDIS_PORT || '6379'}`;
}

function tlsOf(value: unknown, at: string): ConnectionOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (isRecord(value)) return value;
  throw new ConfigError('must be true, false or node:tls options', { field: `${at}.tls` });
}

function clusterNodes(value: unknown, at: string): Array<{ host: string; port: number }> {
  const nodes = isRecord(value) ? value.nodes : undefined;
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new ConfigError('must list at least one node as "host:port" or { host, port }', { field: `${at}.cluster.nodes` });
  }
  return nodes.map((node: unknown, i) => {
    const parsed = typeof node === 'string' ? /^(?:rediss?:\/\/)?\[?([^\]]+?)\]?:(\d+)\/?$/.exec(node) : undefined;
    const host = parsed ? parsed[1] : isRecord(node) ? node.host : undefined;
    const port = parsed ? Number(parsed[2]) : isRecord(node) ? node.port : undefined;
    if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new ConfigError('must be "host:port" or { host, port }', { field: `${at}.cluster.nodes[${i}]` });
    }
    return { host, port };
  });
}
