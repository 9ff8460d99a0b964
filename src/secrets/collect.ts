import type { ResolvedConfig } from '../config/types.js';

/** Config keys whose string values are secrets (apiKey, auth.keys, password, authorization, ...). */
const SECRET_KEY = /key|token|secret|passw|authorization|credential|cookie/i;
/** Header values are secrets unless the header is one of these. */
const PLAIN_HEADERS = new Set(['accept', 'accept-encoding', 'accept-language', 'anthropic-beta', 'anthropic-version', 'cache-control', 'content-type', 'user-agent']);
/** Environment variables holding secrets: CEREBRAS_API_KEY, RUNPOD_API_KEY, REDIS_PASSWORD, GITHUB_TOKEN, LLM_PROXY_API_KEYS. */
const SECRET_ENV = /(^|_)((API_?|ACCESS_)?KEYS?|SECRET|PASSWORD|PASSWD|TOKEN)$/i;
/** Query parameters that carry credentials (`?key=`, `?api_key=`, `?token=`). */
const SECRET_PARAM = /^(api[-_]?key|key|token|access[-_]?token|secret|password|sig|signature)$/i;
/**
 * What `llm-proxy env` puts in ANTHROPIC_AUTH_TOKEN when the proxy has no client keys
 * (src/cli/claude-env.ts): a placeholder, and masking it would mangle every message naming llm-proxy.
 */
const PLACEHOLDER_TOKEN = 'llm-proxy';
/** A URL user name without a password is a credential only when it looks like a token. */
const MIN_TOKEN_USER = 16;
const MAX_DEPTH = 32;

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Credentials inside URLs in `text`: the password and `user:password` (what a Basic header encodes), `?key=` values. */
export function urlCredentials(text: string): string[] {
  if (!text.includes('://')) return [];
  const found: string[] = [];
  for (const [candidate] of text.matchAll(URL_IN_TEXT)) {
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      continue;
    }
    const user = decode(url.username);
    const password = decode(url.password);
    if (password) found.push(password, `${user}:${password}`);
    else if (user.length >= MIN_TOKEN_USER) found.push(user);
    for (const [name, value] of url.searchParams) if (value && SECRET_PARAM.test(name)) found.push(value);
  }
  return found;
}

/** A secret value and the credential inside it: `Bearer <token>` -> the token; `Basic <b64>` -> `user:password` and the password. */
function addSecret(found: Set<string>, value: string): void {
  found.add(value);
  const scheme = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(value);
  if (!scheme?.[2]) return;
  found.add(scheme[2]);
  if (scheme[1]?.toLowerCase() !== 'basic') return;
  const pair = Buffer.from(scheme[2], 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  if (colon >= 0) found.add(pair).add(pair.slice(colon + 1));
}

/** Maps keyed by the user's own names (backend names, model globs): a key there names no setting. */
const NAMED_MAPS = new Set(['backends', 'models']);

const isPluginObject = (value: object): boolean =>
  typeof (value as { apply?: unknown }).apply === 'function' && typeof (value as { name?: unknown }).name === 'string';

/**
 * Every secret in a config value: strings under secret-looking keys (apiKey, auth.keys,
 * password), header values (but content-type and the like), credentials in any URL string.
 * Plugin objects, buffers and cycles are skipped; a plugin object declares its own `secrets`.
 */
export function secretValuesIn(value: unknown, found = new Set<string>()): Set<string> {
  const seen = new Set<object>();
  const walk = (item: unknown, underSecret: boolean, depth: number): void => {
    if (typeof item === 'string') {
      if (underSecret && item !== '') addSecret(found, item);
      for (const credential of urlCredentials(item)) found.add(credential);
      return;
    }
    if (item === null || typeof item !== 'object' || depth > MAX_DEPTH || seen.has(item) || ArrayBuffer.isView(item)) return;
    seen.add(item);
    if (Array.isArray(item)) {
      for (const inner of item) walk(inner, underSecret, depth + 1);
      return;
    }
    if (isPluginObject(item)) return;
    for (const [key, inner] of Object.entries(item as Record<string, unknown>)) {
      if (key === 'headers' && inner !== null && typeof inner === 'object') {
        for (const [header, headerValue] of Object.entries(inner)) {
          if (!PLAIN_HEADERS.has(header.toLowerCase())) walk(headerValue, true, depth + 2);
        }
      } else if (NAMED_MAPS.has(key) && inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
        for (const named of Object.values(inner)) walk(named, underSecret, depth + 2);
      } else walk(inner, underSecret || SECRET_KEY.test(key), depth + 1);
    }
  };
  walk(value, false, 0);
  return found;
}

/** Secrets in the environment: `*_API_KEY`, `*_PASSWORD`, `*_SECRET`, `*_TOKEN` values and credentials in URLs (`REDIS_URL`). */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env, found = new Set<string>()): Set<string> {
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_ENV.test(name)) {
      addSecret(found, value);
      if (/KEYS$/i.test(name)) for (const part of value.split(',')) if (part.trim()) found.add(part.trim());
    }
    for (const credential of urlCredentials(value)) found.add(credential);
  }
  return found;
}

/**
 * Every secret the config and the environment hold: backends (keys, headers, URL credentials),
 * client keys, plugin options and what plugins declare (`secrets`), and the environment.
 */
export function collectSecrets(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const found = secretValuesIn({ backends: config.backends });
  for (const key of config.auth.keys) found.add(key);
  for (const secret of config.pluginSecrets ?? []) found.add(secret);
  for (const plugin of config.plugins) for (const secret of plugin.secrets ?? []) addSecret(found, secret);
  environmentSecrets(env, found);
  found.delete(PLACEHOLDER_TOKEN);
  found.delete('');
  return [...found];
}
