import type { UserConfig } from './types.js';

/** What a config function receives. */
export interface ConfigEnv {
  /** `process.env.NODE_ENV`, or `production` when unset. */
  mode: string;
  env: NodeJS.ProcessEnv;
}

export type UserConfigFnObject = (env: ConfigEnv) => UserConfig;
export type UserConfigFnPromise = (env: ConfigEnv) => Promise<UserConfig>;
export type UserConfigFn = (env: ConfigEnv) => UserConfig | Promise<UserConfig>;

/** Anything a config file may export by default. */
export type UserConfigExport = UserConfig | Promise<UserConfig> | UserConfigFn;

/**
 * Identity function that gives `llm-proxy.config.ts` type checking and completion.
 *
 * The object overload comes last on purpose: when no overload matches, TypeScript reports the
 * last one's error, so a misspelt key reads "'backnd' does not exist in type 'UserConfig'".
 */
export function defineConfig(config: UserConfigFnObject): UserConfigFnObject;
export function defineConfig(config: UserConfigFnPromise): UserConfigFnPromise;
export function defineConfig(config: UserConfigFn): UserConfigFn;
export function defineConfig(config: Promise<UserConfig>): Promise<UserConfig>;
export function defineConfig(config: UserConfig): UserConfig;
export function defineConfig(config: UserConfigExport): UserConfigExport {
  return config;
}
