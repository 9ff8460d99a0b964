import type { ModelMapping } from '../config/types.js';
import { ConfigError } from '../errors.js';

type Options = Readonly<Record<string, unknown>>;

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
