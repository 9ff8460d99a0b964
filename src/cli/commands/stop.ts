import pc from 'picocolors';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../errors.js';
import { describeInstance, instanceFile, isAlive, listInstances, removeInstanceSync, selectInstance, type InstanceRecord } from '../instances.js';
import { parseFixedPort, stringOption } from '../options.js';
import { llmProxyHome, workspaceDir } from '../paths.js';
import { out } from '../ui.js';

export interface StopOptions {
  all?: boolean;
  port?: unknown;
  workspace?: unknown;
}

/** Long enough for the default 10 s shutdown grace period plus plugin cleanup. */
const WAIT_MS = 15_000;

async function waitForExit(pid: number): Promise<boolean> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

async function stopOne(home: string, instance: InstanceRecord): Promise<void> {
  try {
    process.kill(instance.pid, 'SIGTERM');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPERM') {
      throw new CliError(`not allowed to stop pid ${instance.pid} (another user's process)`);
    }
  }
  out(`stopping llm-proxy at ${describeInstance(instance)} ...`);
  if (!(await waitForExit(instance.pid))) {
    throw new CliError(`llm-proxy pid ${instance.pid} did not exit within ${WAIT_MS / 1000} s`, {
      hints: [`it may still be finishing long responses; to force it: kill -9 ${instance.pid}`],
    });
  }
  // It removes its own record on exit; this covers a crash on the way out.
  removeInstanceSync(instanceFile(home, instance.pid));
  out(`${pc.green('stopped')} ${instance.url} (pid ${instance.pid})`);
}

export async function stop(options: StopOptions): Promise<number> {
  const home = llmProxyHome();
  const instances = await listInstances(home);
  const port = parseFixedPort(options.port);
  if (instances.length === 0) {
    if (port !== undefined) throw new CliError(`no llm-proxy is running on port ${port}`);
    out('no llm-proxy is running; nothing to stop');
    return 0;
  }
  const targets = options.all
    ? instances
    : [selectInstance(instances, { workspace: workspaceDir(stringOption(options.workspace, '--workspace')), port, fallbackToOnly: true })];
  const found = targets.filter((i): i is InstanceRecord => i !== undefined);
  await Promise.all(found.map((instance) => stopOne(home, instance)));
  return 0;
}
