import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { CliError } from './errors.js';
import { instancesDir } from './paths.js';

/** What `start` records in `<home>/.llm-proxy/instances/<pid>.json` so other commands find it. */
export interface InstanceRecord {
  pid: number;
  /** A URL clients can connect to (a wildcard host is recorded as loopback). */
  url: string;
  port: number;
  host: string;
  workspace: string;
  configFile: string | null;
  startedAt: string;
  version: string;
}

/**
 * What `start` records before it loads its config and plugins, so that `env` run right after
 * `llm-proxy start &` waits for it instead of finding nothing. Replaced by the InstanceRecord
 * (same file) once the proxy listens.
 */
export interface StartingRecord {
  pid: number;
  state: 'starting';
  workspace: string;
  startedAt: string;
  version: string;
}

export const instanceFile = (home: string, pid: number): string => join(instancesDir(home), `${pid}.json`);

export async function writeInstance(home: string, record: InstanceRecord | StartingRecord): Promise<string> {
  await mkdir(instancesDir(home), { recursive: true, mode: 0o700 });
  const file = instanceFile(home, record.pid);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  await rename(temp, file);
  return file;
}

/** Synchronous so it can run in an `exit` handler. */
export function removeInstanceSync(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseRecord(text: string): InstanceRecord | StartingRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const r = value as Partial<Record<keyof InstanceRecord | 'state', unknown>>;
  const common = typeof r.pid === 'number' && typeof r.workspace === 'string' && typeof r.startedAt === 'string' && typeof r.version === 'string';
  if (common && r.state === 'starting') return value as StartingRecord;
  const ok =
    common &&
    typeof r.url === 'string' &&
    typeof r.port === 'number' &&
    typeof r.host === 'string' &&
    (typeof r.configFile === 'string' || r.configFile === null);
  return ok ? (value as InstanceRecord) : undefined;
}

export interface Instances {
  /** Listening proxies, oldest first. */
  ready: InstanceRecord[];
  /** Proxies still loading their config and plugins. */
  starting: StartingRecord[];
}

/** Live instances; records of dead processes and unreadable files are deleted. */
export async function readInstances(home: string): Promise<Instances> {
  const dir = instancesDir(home);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { ready: [], starting: [] };
  }
  const found: Instances = { ready: [], starting: [] };
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = join(dir, name);
    const record = parseRecord(await readFile(file, 'utf8').catch(() => ''));
    if (!record || !isAlive(record.pid)) await unlink(file).catch(() => undefined);
    else if ('state' in record && record.state === 'starting') found.starting.push(record);
    else found.ready.push(record as InstanceRecord);
  }
  found.ready.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return found;
}

/** Listening instances, oldest first. */
export async function listInstances(home: string): Promise<InstanceRecord[]> {
  return (await readInstances(home)).ready;
}

/**
 * Records this process as a proxy starting for `workspace` (removed on exit, or replaced by the
 * full record once it listens).
 */
export async function recordStarting(home: string, workspace: string, version: string): Promise<void> {
  const file = await writeInstance(home, { pid: process.pid, state: 'starting', workspace, startedAt: new Date().toISOString(), version });
  process.on('exit', () => removeInstanceSync(file));
}

const contains = (parent: string, child: string): boolean => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

export interface Selector {
  workspace: string;
  port?: number | undefined;
  /** Use the only running instance even if it serves another workspace. */
  fallbackToOnly: boolean;
}

export const describeInstance = (i: InstanceRecord): string => `${i.url} (pid ${i.pid}, workspace ${i.workspace})`;

/**
 * The instance a command means: the one on `--port`, else the one started in this workspace
 * (or the nearest enclosing one), else the only one. `undefined` when none fits and no choice
 * was ambiguous.
 */
export function selectInstance(instances: readonly InstanceRecord[], selector: Selector): InstanceRecord | undefined {
  if (selector.port !== undefined) {
    const onPort = instances.find((i) => i.port === selector.port);
    if (!onPort) {
      throw new CliError(`no llm-proxy is running on port ${selector.port}`, {
        hints: instances.length ? instances.map((i) => `running: ${describeInstance(i)}`) : ['start one with `llm-proxy start`'],
      });
    }
    return onPort;
  }
  const enclosing = instances
    .filter((i) => contains(i.workspace, selector.workspace))
    // Nearest workspace first, then the most recently started.
    .sort((a, b) => b.workspace.length - a.workspace.length || b.startedAt.localeCompare(a.startedAt));
  if (enclosing[0]) return enclosing[0];
  if (selector.fallbackToOnly && instances.length === 1) return instances[0];
  if (selector.fallbackToOnly && instances.length > 1) {
    throw new CliError(`${instances.length} llm-proxy instances are running and none for ${selector.workspace}`, {
      hints: [...instances.map((i) => `running: ${describeInstance(i)}`), 'choose one with --port N'],
    });
  }
  return undefined;
}

/** The proxy starting for this workspace (or the nearest enclosing one), if any. */
export function startingFor(starting: readonly StartingRecord[], workspace: string): StartingRecord | undefined {
  return starting
    .filter((s) => contains(s.workspace, workspace))
    .sort((a, b) => b.workspace.length - a.workspace.length || b.startedAt.localeCompare(a.startedAt))[0];
}
