import type { RedisLink } from './link.js';

const SHARED = 'llmp:v1:shared:';

/** Small values every proxy on the same Redis shares (quotas, circuits), under `llmp:v1:shared:`. */
export interface SharedStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
}

/** The store over a link (fails soft, as the link does); usable before the link exists. */
export function sharedStore(link: () => RedisLink | undefined): SharedStore {
  return {
    get: async (key) => (await link()?.run((client) => client.get(SHARED + key))) ?? undefined,
    set: async (key, value, ttlSeconds) => {
      await link()?.run((client) => client.set(SHARED + key, value, 'EX', Math.max(1, Math.ceil(ttlSeconds))));
    },
  };
}
