// The kernel's contract with plugins (docs/ARCHITECTURE.md, "The hooks" and "Plugins"), over
// real HTTP on loopback with real plugins: hook order, stages, bail semantics, boot failures,
// error attribution and logging, the tap-only view, and close order.
import { afterEach, describe, expect, it } from 'vitest';
import { PluginError } from '../src/errors.js';
import type { HookName, TapOnlyHooks } from '../src/kernel/hooks.js';
import type { Plugin, ProxyContext } from '../src/kernel/types.js';
import type { CacheTier } from '../src/plugins/cache/tier.js';
import { ScriptedBackend } from '../src/plugins/providers/scripted/index.js';
import { createProxy } from '../src/proxy.js';
import type { UserConfig } from '../src/config/types.js';
import { postMessages, startProxy, type TestProxy } from './support/proxy.js';

/** An api one test plugin offers another, found by name (declaration merging on PluginApis). */
interface ContractClockApi {
  now(): number;
}

declare module '../src/kernel/types.js' {
  interface PluginApis {
    'contract-clock': ContractClockApi;
  }
}

const HOOKS: HookName[] = ['request', 'cacheLookup', 'route', 'transform', 'respond', 'error'];

/** One scripted backend whose answers the cache keeps (scripted answers are not cached by default). */
const config = (plugins: Plugin[], text = 'contract answer'): UserConfig => ({
  backend: 'canned',
  backends: { canned: { type: 'scripted', responses: [{ text }], cache: true } },
  plugins,
});

const ask = (text: string, extra: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 50,
  messages: [{ role: 'user', content: text }],
  ...extra,
});

const until = async (condition: () => boolean, ms = 2000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** A plugin that taps `hook` at `stage` and records `label` when its tap runs. */
const tapper = (name: string, log: string[], taps: Array<{ stage: number; label: string }>, extra: Partial<Plugin> = {}): Plugin => ({
  name,
  apply({ hooks }) {
    for (const { stage, label } of taps) {
      hooks.request.tap({ name, stage }, () => {
        log.push(label);
      });
    }
  },
  ...extra,
});

let running: TestProxy | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(plugins: Plugin[], text?: string): Promise<TestProxy> {
  running = await startProxy(config(plugins, text));
  return running;
}

describe('hook order', () => {
  it('runs request, route, cacheLookup, transform(request), the backend, transform(response), respond on a miss; a hit skips transform(request) and the backend', async () => {
    const calls: string[] = [];
    const recorder: Plugin = {
      name: 'recorder',
      apply({ hooks }) {
        for (const name of HOOKS) {
          hooks[name].intercept({
            call: (...args: unknown[]) => {
              if (name !== 'transform') return calls.push(name);
              const exchange = args[0] as { phase: string };
              const ctx = args[1] as ProxyContext;
              const backend = ctx.route?.backend;
              const invoked = backend instanceof ScriptedBackend ? backend.requests.length : -1;
              return calls.push(`transform:${exchange.phase} (backend called ${invoked}x)`);
            },
          });
        }
      },
    };
    const px = await start([recorder]);

    const miss = await postMessages(px.url, ask('order'));
    expect(miss.status).toBe(200);
    expect(miss.headers.get('x-llm-proxy-cache')).toBe('miss');
    expect(miss.headers.get('x-llm-proxy-backend')).toBe('canned');
    await until(() => calls.includes('respond'));
    expect(calls).toEqual([
      'request',
      'route',
      'cacheLookup',
      'transform:request (backend called 0x)',
      'transform:response (backend called 1x)',
      'respond',
    ]);

    calls.length = 0;
    const hit = await postMessages(px.url, ask('order'));
    expect(hit.headers.get('x-llm-proxy-cache')).toBe('hit');
    expect(hit.headers.get('x-llm-proxy-cache-tier')).toBe('memory');
    await until(() => calls.includes('respond'));
    expect(calls).toEqual(['request', 'route', 'cacheLookup', 'transform:response (backend called 1x)', 'respond']);
  });
});

describe('another attempt (ctx.retryPolicy)', () => {
  it('keeps the whole request for it: the failed attempt reaches the error hook (in ctx.attempts), then transform(request) and the backend run again', async () => {
    const calls: string[] = [];
    const retryOnce: Plugin = {
      name: 'retry-once',
      apply({ hooks }) {
        hooks.request.tap('retry-once', (ctx) => {
          let left = 1;
          ctx.retryPolicy = { next: (_error, c) => (left-- > 0 && c.route ? { route: c.route, delayMs: 0 } : undefined) };
        });
        hooks.transform.tap('retry-once', (exchange, ctx) => {
          if (exchange.phase === 'request') calls.push(`transform:request (${exchange.body.messages.length} message, attempt ${ctx.attempts.length + 1})`);
          else calls.push('transform:response');
          return exchange;
        });
        hooks.error.tap('retry-once', (ctx, error) => {
          calls.push(`error ${error.code} (superseded: ${ctx.attempts.some((a) => a.error === error)})`);
        });
        hooks.respond.tap('retry-once', () => {
          calls.push('respond');
        });
      },
    };
    running = await startProxy({
      backend: 'canned',
      backends: { canned: { type: 'scripted', responses: [{ error: { status: 503, type: 'overloaded_error', message: 'busy' } }, { text: 'second attempt' }] } },
      plugins: [retryOnce],
    });
    const px = running;
    const res = await postMessages(px.url, ask('retry me'));
    expect(res.status).toBe(200);
    expect(res.text).toContain('second attempt');
    await until(() => calls.includes('respond'));
    expect(calls).toEqual([
      'transform:request (1 message, attempt 1)',
      'error scripted_error (superseded: true)',
      'transform:request (1 message, attempt 2)',
      'transform:response',
      'respond',
    ]);
  });
});

describe('stages and enforce', () => {
  it('runs taps by stage, then in plugin order; plugins apply pre, normal, post whatever their place in the config', async () => {
    const order: string[] = [];
    const px = await start([
      tapper('late', order, [{ stage: 0, label: 'post@0' }], { enforce: 'post' }),
      tapper('middle', order, [
        { stage: 10, label: 'normal@10' },
        { stage: -10, label: 'normal@-10' },
        { stage: 0, label: 'normal@0' },
      ]),
      tapper('early', order, [{ stage: 0, label: 'pre@0' }, { stage: 10, label: 'pre@10' }], { enforce: 'pre' }),
    ]);
    expect((await postMessages(px.url, ask('stages'))).status).toBe(200);
    expect(order).toEqual(['normal@-10', 'pre@0', 'normal@0', 'post@0', 'pre@10', 'normal@10']);
  });

  it('looks up cache tiers added through the cache api in stage order, whatever order they were added in; the first hit stops the chain', async () => {
    const lookups: string[] = [];
    const tier = (name: string, stage: number, answers: boolean): CacheTier => {
      const stored = new Map<string, Parameters<CacheTier['set']>[1]>();
      return {
        name,
        plugin: 'contract-tiers',
        stage,
        ttlSeconds: 60,
        maxEntryBytes: 1 << 20,
        get(keys) {
          lookups.push(name);
          return answers ? stored.get(keys.key) : undefined;
        },
        set(keys, answer) {
          stored.set(keys.key, answer);
        },
      };
    };
    const tiers: Plugin = {
      name: 'contract-tiers',
      dependencies: ['cache'],
      apply(api) {
        const cache = api.getApi('cache');
        cache.addTier(tier('fifteen', 15, false));
        cache.addTier(tier('five', 5, true));
      },
    };
    // memory-cache off: the lookups reach the tiers under test.
    const px = await start([tiers, { name: 'memory-cache', apply() {} }]);
    expect((await postMessages(px.url, ask('tiers'))).headers.get('x-llm-proxy-cache')).toBe('miss');
    expect(lookups).toEqual(['five', 'fifteen']);
    lookups.length = 0;
    const hit = await postMessages(px.url, ask('tiers'));
    expect(hit.headers.get('x-llm-proxy-cache-tier')).toBe('five');
    expect(lookups).toEqual(['five']);
  });
});

describe('bail hooks', () => {
  it('passes to the next tap when a bail tap returns undefined, and stops at the first that returns a value', async () => {
    const seen: string[] = [];
    const router: Plugin = {
      name: 'contract-router',
      apply({ hooks, backends }) {
        hooks.route.tap({ name: 'contract-router', stage: -50 }, () => {
          seen.push('pass');
          return undefined;
        });
        hooks.route.tap({ name: 'contract-router', stage: -40 }, (ctx) => {
          seen.push('claim?');
          const backend = backends.get('canned');
          return ctx.headers['x-claim'] === 'yes' && backend ? { backend, model: 'claimed-model' } : undefined;
        });
        hooks.route.tap({ name: 'contract-router', stage: -30 }, () => {
          seen.push('after');
          return undefined;
        });
      },
    };
    const px = await start([router]);
    const passed = await postMessages(px.url, ask('bail'));
    expect(passed.status).toBe(200);
    // The default router (stage 100) picked the backend and kept the requested model.
    expect((JSON.parse(passed.text) as { model: string }).model).toBe('claude-sonnet-4-5');
    expect(seen).toEqual(['pass', 'claim?', 'after']);

    seen.length = 0;
    const claimed = await postMessages(px.url, ask('bail claimed'), { 'x-claim': 'yes' });
    expect((JSON.parse(claimed.text) as { model: string }).model).toBe('claimed-model');
    expect(seen).toEqual(['pass', 'claim?']);
  });
});

describe('boot', () => {
  const boot = (plugins: Plugin[]) => createProxy({ ...config(plugins), logLevel: 'silent' });
  const named = (name: string, extra: Partial<Plugin> = {}): Plugin => ({ name, apply() {}, ...extra });

  it('fails on two plugins with one name, naming it', async () => {
    await expect(boot([named('twin'), named('twin')])).rejects.toThrow('plugin "twin" is declared twice');
  });

  it('fails on a missing dependency, naming both plugins', async () => {
    await expect(boot([named('needy', { dependencies: ['absent'] })])).rejects.toThrow(
      'plugin "needy" needs plugin "absent", which is not in the config',
    );
  });

  it('hands a plugin the api of a dependency by name, and fails naming both plugins for an undeclared one or one without an api', async () => {
    let now = 0;
    const clock = named('contract-clock', { api: { now: () => 42 } satisfies ContractClockApi });
    const reader = named('clock-reader', {
      dependencies: ['contract-clock'],
      apply(api) {
        now = api.getApi('contract-clock').now();
      },
    });
    const proxy = await boot([reader, clock]);
    await proxy.close();
    expect(now).toBe(42);

    const undeclared = named('sneaky', { apply: (api) => void api.getApi('contract-clock') });
    await expect(boot([clock, undeclared])).rejects.toThrow(
      'plugin "sneaky" asks for the api of plugin "contract-clock" without listing "contract-clock" in its `dependencies`',
    );
    const silent = named('contract-clock');
    await expect(boot([silent, reader])).rejects.toThrow('plugin "clock-reader" needs the api of plugin "contract-clock", which exposes none');
  });

  it('boots without an optional dependency (findApi is undefined), hands its api when present, and refuses an undeclared name', async () => {
    const seen: Array<number | undefined> = [];
    const reader = named('maybe-clock', {
      optionalDependencies: ['contract-clock'],
      apply(api) {
        seen.push(api.findApi('contract-clock')?.now());
      },
    });
    await (await boot([reader])).close();
    await (await boot([reader, named('contract-clock', { api: { now: () => 7 } satisfies ContractClockApi })])).close();
    expect(seen).toEqual([undefined, 7]);
    const undeclared = named('sneaky', { apply: (api) => void api.findApi('contract-clock') });
    await expect(boot([undeclared])).rejects.toThrow(
      'plugin "sneaky" looks for the api of plugin "contract-clock" without listing "contract-clock" in its `optionalDependencies`',
    );
  });
});

describe('errors', () => {
  it('turns a throwing tap into a PluginError naming plugin and hook, logs it once, and shows the client a generic api_error', async () => {
    const observed: Array<{ plugin: string; hook: string; code: string }> = [];
    const thrower: Plugin = {
      name: 'thrower',
      apply({ hooks }) {
        hooks.request.tap('thrower', () => {
          throw new Error('contract boom');
        });
        hooks.error.tap('thrower', (_ctx, error) => {
          const cause = error.cause;
          if (cause instanceof PluginError) observed.push({ plugin: cause.plugin, hook: cause.hook, code: error.code });
        });
      },
    };
    const px = await start([thrower]);
    for (const stream of [false, true]) {
      px.logs.length = 0;
      const res = await postMessages(px.url, ask('throws', { stream }));
      expect(res.status).toBe(500);
      const body = JSON.parse(res.text) as { error: { type: string; message: string } };
      expect(body.error.type).toBe('api_error');
      expect(body.error.message).not.toContain('contract boom');
      await until(() => px.logs.some((line) => line.includes('"status":500')));
      const mentions = px.logs.filter((line) => line.includes('contract boom'));
      expect(mentions).toHaveLength(1);
      expect(JSON.parse(mentions[0]!)).toMatchObject({ level: 'error', plugin: 'thrower', hook: 'request', error: 'internal_error' });
      expect(px.logs.filter((line) => line.includes('"level":"error"'))).toHaveLength(1);
    }
    expect(observed).toEqual([
      { plugin: 'thrower', hook: 'request', code: 'internal_error' },
      { plugin: 'thrower', hook: 'request', code: 'internal_error' },
    ]);
  });
});

describe('error taps', () => {
  it('observe only: a throwing error tap is logged naming it, and the client still gets the original error', async () => {
    const px = await start([
      {
        name: 'clumsy-observer',
        apply({ hooks }) {
          hooks.error.tap('clumsy-observer', () => {
            throw new Error('observer tripped');
          });
        },
      },
    ]);
    const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'no max_tokens' }] });
    expect(res.status).toBe(400);
    expect(res.text).toContain('max_tokens');
    const lines = px.logs.filter((line) => line.includes('observer tripped'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('error hook failed');
    expect(lines[0]).toContain('plugin \\"clumsy-observer\\" failed in hook \\"error\\"');
  });
});

describe('the hooks view', () => {
  it('lets plugins tap and intercept but never call a hook', async () => {
    let view: TapOnlyHooks | undefined;
    await start([{ name: 'peeker', apply: ({ hooks }) => void (view = hooks) }]);
    if (!view) throw new Error('apply did not run');
    expect(Object.isFrozen(view)).toBe(true);
    for (const name of HOOKS) {
      const hook: object = view[name];
      expect(Object.keys(hook).sort()).toEqual(['intercept', 'tap', 'tapPromise']);
      for (const call of ['call', 'callAsync', 'promise', 'taps']) expect(call in hook).toBe(false);
      expect(Object.isFrozen(hook)).toBe(true);
    }
    // @ts-expect-error the view's type has no `promise` either
    expect(view.request.promise).toBeUndefined();
    expect(() => Object.assign(view!, { request: {} })).toThrow(TypeError);
  });
});

describe('close', () => {
  it('closes plugins in the reverse of the order they applied, and a failing close does not keep the others open', async () => {
    const closed: string[] = [];
    const closing = (name: string, extra: Partial<Plugin> = {}): Plugin => ({
      name,
      apply() {},
      close() {
        closed.push(name);
        if (name === 'b') throw new Error('b will not close');
      },
      ...extra,
    });
    const px = await start([closing('a'), closing('b'), closing('c'), closing('first', { enforce: 'pre' })]);
    await px.close();
    running = undefined;
    expect(closed).toEqual(['c', 'b', 'a', 'first']);
    expect(px.logs.some((line) => line.includes('plugin close failed') && line.includes('"plugin":"b"'))).toBe(true);
  });
});
