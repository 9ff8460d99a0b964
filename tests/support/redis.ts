// Private Redis servers for the cache tests: one `redis-server` (or a 3-node Cluster) per suite on
// free loopback ports, in a temp dir, without persistence; never the shared 6379 (suites run in
// parallel forks). Debian's `redis-server` package provides both binaries.
//
//   describe.skipIf(!redisPresent && !redisRequired)('...', () => {
//     let redis: RedisServer;
//     beforeAll(async () => { redis = await startRedis(); });
//     afterAll(() => redis.stop());
//   });

import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export const redisPresent: boolean = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** True in CI (.ci/run sets LLM_PROXY_REQUIRE_FIXTURES=1): a missing redis-server fails instead of skipping. */
export const redisRequired: boolean = process.env.LLM_PROXY_REQUIRE_FIXTURES === '1';

export const REDIS_MISSING = 'redis-server is not installed: `apt-get install redis-server` (Debian/Ubuntu) provides redis-server and redis-cli';

if (!redisPresent && !redisRequired) console.warn(`skipping the Redis tests: ${REDIS_MISSING}`);

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that accepts connections and never answers (a slow one). */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface RedisCluster {
  readonly nodes: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

export async function startRedis(extraArgs: string[] = []): Promise<RedisServer> {
  if (!redisPresent) throw new Error(REDIS_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'llm-proxy-redis-'));
  const argsFor = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs];
  // Another fork may take the free port before redis-server binds it: try a few.
  let started: { port: number; child: ChildProcess } | undefined;
  for (let attempt = 1; !started; attempt++) {
    const port = await freePort();
    started = await launch(argsFor(port), port).then(
      (child) => ({ port, child }),
      (error: unknown) => {
        if (attempt >= 3) throw error;
        return undefined;
      },
    );
  }
  const { port } = started;
  let { child } = started;
  const args = argsFor(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => terminate(child),
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async restart() {
      await terminate(child);
      child = await launch(args, port);
    },
    async stop() {
      await terminate(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Three masters without replicas, slots assigned, `cluster_state:ok` on every node. */
export async function startRedisCluster(): Promise<RedisCluster> {
  if (!redisPresent) throw new Error(REDIS_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'llm-proxy-redis-cluster-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(terminate));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    // The cluster bus listens on port + 10000: both must be free.
    while (ports.length < 3) {
      const port = await freePort();
      if (port < 55_000 && !ports.includes(port) && (await isFree(port + 10_000))) ports.push(port);
    }
    for (const port of ports) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '3000');
      children.push(await launch(args, port));
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`redis cluster node ${port} did not reach cluster_state:ok`);
        await sleep(100);
      }
    }
    return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (data: string) => (stderr += data));
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited: ${stderr}`);
    if (Date.now() > deadline) {
      await terminate(child);
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
    }
    await sleep(30);
  }
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
