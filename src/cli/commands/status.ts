import pc from 'picocolors';
import { isRecord } from '../../config/is-record.js';
import { environmentSecrets } from '../../secrets/collect.js';
import { SecretScrubber } from '../../secrets/scrubber.js';
import type { EndpointHealth, HealthState, StatusSection } from '../../kernel/types.js';
import type { StatusReport } from '../../plugins/endpoints/admin/index.js';
import { fetchStatus, instanceConfig } from '../admin-client.js';
import { secretsOf } from '../claude-env.js';
import { CliError } from '../errors.js';
import { readInstances, type InstanceRecord } from '../instances.js';
import { llmProxyHome } from '../paths.js';
import { STATUS_EXIT } from '../status-exit.js';
import { err, formatUptime, HEALTH_MARK, out } from '../ui.js';
import { redactUrl } from '../../secrets/redact-url.js';

export interface StatusOptions {
  json?: boolean;
}

type Field = string | number | boolean | undefined;

export interface BackendStatus {
  name: string;
  active: boolean;
  type: string;
  url?: string;
  model?: string;
  health: HealthState;
  latencyMs?: number;
  detail?: string;
  /** A backend with several endpoints: each one's state. */
  endpoints?: EndpointHealth[];
  /** Everything else the backend describes (quota, key set / not set). */
  info: Record<string, Field>;
}

export interface InstanceStatus extends InstanceRecord {
  reachable: boolean;
  error?: string;
  uptimeSeconds?: number;
  active?: string;
  health?: StatusReport['health']['status'];
  backends?: BackendStatus[];
  /** Sections plugins add to /health (cache, redis-cache, tunnels). */
  plugins?: Record<string, StatusSection>;
}

const SECRET_KEY = /key|token|secret|password|authorization|credential/i;

/** Backends describe themselves without secrets; this is a second line of defence for third-party ones. */
function sanitize(fields: Record<string, Field>): Record<string, Field> {
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]): [string, Field] => {
      if (SECRET_KEY.test(key) && typeof value === 'string' && value !== 'set' && value !== 'not set') return [key, 'set'];
      if (key === 'url' && typeof value === 'string') return [key, redactUrl(value)];
      return [key, value];
    }),
  );
}

function backendsOf(report: StatusReport): BackendStatus[] {
  return Object.entries(report.backends).map(([name, raw]) => {
    const { type, url, model, ...info } = sanitize(raw);
    const health = report.health.backends[name];
    return {
      name,
      active: name === report.active,
      type: String(health?.type ?? type ?? 'unknown'),
      ...(typeof url === 'string' ? { url } : {}),
      ...(typeof model === 'string' ? { model } : {}),
      health: health?.status ?? 'unknown',
      ...(health?.latencyMs !== undefined ? { latencyMs: health.latencyMs } : {}),
      ...(health?.detail ? { detail: health.detail } : {}),
      ...(health?.endpoints ? { endpoints: health.endpoints.map((e) => ({ ...e, url: redactUrl(e.url) })) } : {}),
      info,
    };
  });
}

/** Health details quote upstream errors, which may echo a key: mask every secret the instance's config and this environment know. */
async function redacted(status: InstanceStatus, instance: InstanceRecord, home: string): Promise<InstanceStatus> {
  const config = await instanceConfig(instance, { home });
  return new SecretScrubber(config ? secretsOf(config) : environmentSecrets()).value(status);
}

/** One running proxy's state, from its admin API, with every secret its config and this environment know masked. */
export async function statusOf(instance: InstanceRecord, home: string): Promise<InstanceStatus> {
  try {
    const report = await fetchStatus(instance, { home });
    return redacted({
      ...instance,
      reachable: true,
      uptimeSeconds: report.uptimeSeconds,
      active: report.active,
      health: report.health.status,
      backends: backendsOf(report),
      plugins: report.health.plugins,
    }, instance, home);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return { ...instance, reachable: false, error: error.message };
  }
}

function printInstance(s: InstanceStatus): void {
  const mark = !s.reachable ? HEALTH_MARK.down : HEALTH_MARK[s.health ?? 'unknown'];
  out(`${mark} ${pc.bold(s.url)}  ${pc.dim(`pid ${s.pid}, v${s.version}${s.uptimeSeconds !== undefined ? `, up ${formatUptime(s.uptimeSeconds)}` : ''}`)}`);
  out(`  workspace: ${s.workspace}`);
  if (s.configFile) out(`  config:    ${s.configFile}`);
  if (!s.reachable) {
    out(`  ${pc.red(s.error ?? 'not reachable')}`);
    return;
  }
  out(`  active:    ${pc.bold(s.active ?? '?')}`);
  const width = Math.max(...(s.backends ?? []).map((b) => b.name.length));
  for (const b of s.backends ?? []) {
    const name = (b.active ? pc.bold(b.name) : b.name) + ' '.repeat(width - b.name.length);
    const where = [b.type, b.url, b.model && `model ${b.model}`].filter(Boolean).join('  ');
    const latency = b.latencyMs !== undefined ? pc.dim(` ${b.latencyMs} ms`) : '';
    const detail = b.detail ? `  ${b.health === 'ok' ? pc.dim(b.detail) : pc.yellow(b.detail)}` : '';
    const info = Object.entries(b.info)
      .filter(([, v]) => v !== undefined && v !== 'not set')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    out(`    ${HEALTH_MARK[b.health]} ${name}  ${where}${latency}${detail}${info ? pc.dim(`  ${info}`) : ''}`);
    for (const e of b.endpoints ?? []) {
      const load = pc.dim(`  ${e.inFlight} in flight${e.latencyMs !== undefined ? `, ${e.latencyMs} ms` : ''}`);
      out(`      ${HEALTH_MARK[e.status]} ${e.url}${load}${e.detail && e.status !== 'ok' ? `  ${pc.yellow(e.detail)}` : ''}`);
    }
  }
  const sections = Object.entries(s.plugins ?? {});
  if (sections.length > 0) out('  plugins:');
  const sectionWidth = Math.max(0, ...sections.map(([name]) => name.length));
  for (const [name, section] of sections) {
    out(`    ${HEALTH_MARK[section.status] ?? HEALTH_MARK.unknown} ${name.padEnd(sectionWidth)}  ${formatSection(section)}`);
  }
}

/** A plugin section on one line: `hits: memory=2 redis=1  misses=3  savedUsd=$0.0045  tiers: memory(entries=3 bytes=2048)`. */
export function formatSection(section: StatusSection): string {
  const { status: _status, ...details } = section;
  return Object.entries(details)
    .filter(([, value]) => value !== undefined && !(isRecord(value) && Object.keys(value).length === 0))
    .map(([key, value]) => (isRecord(value) ? `${key}: ${pairs(value)}` : `${key}=${scalar(key, value)}`))
    .join('  ');
}

function pairs(record: Record<string, unknown>): string {
  return Object.entries(record)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => (isRecord(value) ? `${key}(${pairs(value)})` : `${key}=${scalar(key, value)}`))
    .join(' ');
}

function scalar(key: string, value: unknown): string {
  if (typeof value === 'number' && /usd$/i.test(key)) return `$${value}`;
  return Array.isArray(value) ? value.map(String).join(',') : String(value);
}

const activeDown = (s: InstanceStatus): boolean => s.backends?.some((b) => b.active && b.health === 'down') ?? false;

export function statusExitCode(statuses: readonly InstanceStatus[]): number {
  if (statuses.length === 0) return STATUS_EXIT.noProxy;
  if (statuses.some((s) => !s.reachable)) return STATUS_EXIT.unreachable;
  if (statuses.some(activeDown)) return STATUS_EXIT.backendDown;
  return STATUS_EXIT.ok;
}

const LEGEND = `${HEALTH_MARK.ok} ok  ${HEALTH_MARK.degraded} degraded (works, with warnings)  ${HEALTH_MARK.unknown} unknown  ${HEALTH_MARK.down} down`;

export async function status(options: StatusOptions): Promise<number> {
  const home = llmProxyHome();
  const { ready: instances, starting } = await readInstances(home);
  const statuses = await Promise.all(instances.map((i) => statusOf(i, home)));
  const code = statusExitCode(statuses);
  if (options.json) {
    out(JSON.stringify(statuses, null, 2));
    return code;
  }
  // Not listening yet (loading config and plugins): said, but not counted as running.
  for (const s of starting) out(`${HEALTH_MARK.unknown} starting for ${s.workspace}  ${pc.dim(`pid ${s.pid}, v${s.version}`)}`);
  if (statuses.length === 0) {
    out('no llm-proxy is running');
    err(pc.dim(`  start one with ${pc.cyan('llm-proxy start')} (or ${pc.cyan('llm-proxy code')} to run Claude Code through one)`));
    return code;
  }
  statuses.forEach((s, i) => {
    if (i > 0) out();
    printInstance(s);
  });
  out();
  out(pc.dim(`legend: ${LEGEND}`));
  if (code === STATUS_EXIT.backendDown) {
    err(`${pc.yellow('note:')} the active backend is down: requests fail until it is back, or ${pc.cyan('llm-proxy switch <backend>')} to another`);
  }
  return code;
}
