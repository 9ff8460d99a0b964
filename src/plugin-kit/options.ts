import type { ModelMapping } from '../config/types.js';
import { parseBodyLimit } from '../config/body-limit.js';
import { ConfigError } from '../errors.js';

type Options = Readonly<Record<string, unknown>>;

export function requireString(options: Options, key: string, at: string): string {
  const value = options[key];
  if (typeof value !== 'string' || value === '') throw new ConfigError('Required (a non-empty string)', { field: `${at}.${key}` });
  return value;
}

export function optionalString(options: Options, key: string, at: string): string | undefined {
  const value = options[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError('must be a string', { field: `${at}.${key}` });
  return value;
}

export function optionalNumber(options: Options, key: string, at: string): number | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError('must be a positive number', { field: `${at}.${key}` });
  }
  return value;
}

export function optionalStringRecord(options: Options, key: string, at: string): Record<string, string> | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new ConfigError('must be an object of strings', { field: `${at}.${key}` });
  }
  return value as Record<string, string>;
}

export function modelMappingOf(options: Options, at: string): ModelMapping {
  return {
    model: optionalString(options, 'model', at),
    models: optionalStringRecord(options, 'models', at),
    maxTokens: optionalNumber(options, 'maxTokens', at),
  };
}

export function optionalBoolean(options: Options, key: string, at: string): boolean | undefined {
  const value = options[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new ConfigError('must be true or false', { field: `${at}.${key}` });
}

/** A size in bytes, as a number or a string like `64mb`. */
export function optionalSize(options: Options, key: string, at: string): number | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  const bytes = typeof value === 'number' || typeof value === 'string' ? parseBodyLimit(value) : undefined;
  if (bytes === undefined) throw new ConfigError('must be a positive number of bytes or a size like "64mb"', { field: `${at}.${key}` });
  return bytes;
}
