import type { ConnectionOptions } from 'node:tls';
import { isRecord } from '../../src/config/is-record.js';
import { ConfigError } from '../../src/errors.js';
import { optionalNumber, optionalSize, optionalString } from '../../src/plugins/backend-options.js';

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

export interface RedisSettings {
  mode: 'single' | 'cluster';
  url: string;
  nodes: Array<{ host: string; port: number }>;
  password: string | undefined;
  tls: ConnectionOptions | undefined;
  ttlSeconds: number;
  compressAbove: number;
  compression: 'brotli' | 'gzip';
  maxEntryBytes: number;
  operationTimeoutMs: number;
  connectTimeoutMs: number;
}

const AT = 'plugins.redis-cache';
const KNOWN = new Set(['url', 'password', 'tls', 'cluster', 'ttlSeconds', 'compressAbove', 'compression', 'maxEntryBytes', 'operationTimeoutMs', 'connectTimeoutMs']);

/** Checks the options at start-up (errors name the field) and fills in the environment and defaults. */
export function resolveRedisSettings(options: RedisCacheOptions, env: NodeJS.ProcessEnv = process.env): RedisSettings {
  const raw: Readonly<Record<string, unknown>> = isRecord(options) ? options : {};
  const unknown = Object.keys(raw).find((key) => !KNOWN.has(key));
  if (unknown !== undefined) throw new ConfigError(`unknown option (known: ${[...KNOWN].join(', ')})`, { field: `${AT}.${unknown}` });
  const url = optionalString(raw, 'url', AT) ?? env.REDIS_URL ?? legacyUrl(env);
  if (!/^rediss?:\/\//i.test(url)) throw new ConfigError('must be a redis:// or rediss:// URL', { field: `${AT}.url` });
  const compression = raw.compression ?? 'brotli';
  if (compression !== 'brotli' && compression !== 'gzip') throw new ConfigError('must be "brotli" or "gzip"', { field: `${AT}.compression` });
  return {
    mode: raw.cluster === undefined ? 'single' : 'cluster',
    url,
    nodes: raw.cluster === undefined ? [] : clusterNodes(raw.cluster),
    password: optionalString(raw, 'password', AT) ?? (env.REDIS_PASSWORD || undefined),
    tls: tlsOf(raw.tls),
    ttlSeconds: optionalNumber(raw, 'ttlSeconds', AT) ?? 86_400,
    compressAbove: optionalSize(raw, 'compressAbove', AT) ?? 16 * 1024,
    compression,
    maxEntryBytes: optionalSize(raw, 'maxEntryBytes', AT) ?? 4 * 1024 ** 2,
    operationTimeoutMs: optionalNumber(raw, 'operationTimeoutMs', AT) ?? 150,
    connectTimeoutMs: optionalNumber(raw, 'connectTimeoutMs', AT) ?? 2000,
  };
}

function legacyUrl(env: NodeJS.ProcessEnv): string {
  return `redis://${env.REDIS_HOST || '127.0.0.1'}:${env.REDIS_PORT || '6379'}`;
}

function tlsOf(value: unknown): ConnectionOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (isRecord(value)) return value as ConnectionOptions;
  throw new ConfigError('must be true, false or node:tls options', { field: `${AT}.tls` });
}

function clusterNodes(value: unknown): Array<{ host: string; port: number }> {
  const nodes = isRecord(value) ? value.nodes : undefined;
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new ConfigError('must list at least one node as "host:port" or { host, port }', { field: `${AT}.cluster.nodes` });
  }
  return nodes.map((node: unknown, i) => {
    const parsed = typeof node === 'string' ? /^(?:rediss?:\/\/)?\[?([^\]]+?)\]?:(\d+)\/?$/.exec(node) : undefined;
    const host = parsed ? parsed[1] : isRecord(node) ? node.host : undefined;
    const port = parsed ? Number(parsed[2]) : isRecord(node) ? node.port : undefined;
    if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new ConfigError('must be "host:port" or { host, port }', { field: `${AT}.cluster.nodes[${i}]` });
    }
    return { host, port };
  });
}
