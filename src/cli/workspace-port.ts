import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { portsDir } from './paths.js';

/**
 * `port: "auto"` in the CLI: each workspace gets its own port, the same on every start, because
 * Claude Code sessions keep the ANTHROPIC_BASE_URL they were started with. The port is derived
 * from the workspace path (a hash into this range, below every OS's ephemeral ports), the next
 * free one if that is taken, and recorded in `~/.llm-proxy/ports/` so the next start reuses it.
 */
export const AUTO_PORT_RANGE = { first: 18_000, last: 18_999 } as const;
const RANGE_SIZE = AUTO_PORT_RANGE.last - AUTO_PORT_RANGE.first + 1;

interface PortRecord {
  workspace: string;
  port: number;
  updatedAt: string;
}

const digest = (workspace: string): Buffer => createHash('sha256').update(workspace).digest();

/** Where a workspace's port starts: the same path always gives the same port. */
export const derivedPort = (workspace: string): number => AUTO_PORT_RANGE.first + (digest(workspace).readUInt32BE(0) % RANGE_SIZE);

const recordFile = (home: string, workspace: string): string => join(portsDir(home), `${digest(workspace).toString('hex').slice(0, 24)}.json`);

function parseRecord(text: string): PortRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<PortRecord> | null;
    if (typeof value?.workspace === 'string' && Number.isInteger(value.port) && typeof value.updatedAt === 'string') return value as PortRecord;
  } catch {
    // unreadable: as if absent
  }
  return undefined;
}

async function readRecords(home: string): Promise<PortRecord[]> {
  const names = await readdir(portsDir(home)).catch(() => [] as string[]);
  const records = await Promise.all(
    names.filter((n) => n.endsWith('.json')).map(async (n) => parseRecord(await readFile(join(portsDir(home), n), 'utf8').catch(() => ''))),
  );
  return records.filter((r): r is PortRecord => r !== undefined);
}

/** The port recorded for this workspace by an earlier start, if any. */
export async function recordedPort(home: string, workspace: string): Promise<number | undefined> {
  const record = parseRecord(await readFile(recordFile(home, workspace), 'utf8').catch(() => ''));
  return record?.workspace === workspace ? record.port : undefined;
}

/** Remembers the port for the next start (mode 0600; one file per workspace, so starts never overwrite each other's). */
export async function recordPort(home: string, workspace: string, port: number): Promise<void> {
  await mkdir(portsDir(home), { recursive: true, mode: 0o700 });
  const file = recordFile(home, workspace);
  const record: PortRecord = { workspace, port, updatedAt: new Date().toISOString() };
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  await rename(temp, file);
}

/**
 * The ports to try, in order: the recorded one, then from the derived port upwards through the
 * range (wrapping), skipping ports recorded for other workspaces so that one workspace does not
 * take another's while that one is stopped.
 */
export async function autoPortCandidates(home: string, workspace: string): Promise<number[]> {
  const records = await readRecords(home);
  const own = records.find((r) => r.workspace === workspace)?.port;
  const others = new Set(records.filter((r) => r.workspace !== workspace).map((r) => r.port));
  const start = derivedPort(workspace) - AUTO_PORT_RANGE.first;
  const range = Array.from({ length: RANGE_SIZE }, (_, i) => AUTO_PORT_RANGE.first + ((start + i) % RANGE_SIZE));
  return [...new Set([...(own !== undefined ? [own] : []), ...range.filter((p) => !others.has(p))])];
}
