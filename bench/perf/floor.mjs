// The floor, for bench/perf.ts: what any proxy does with a request at least (as issue 13 puts it,
// JSON.parse and JSON.stringify of it and SHA-256 of its bytes), timed in the process asked, now,
// so a figure can be read in floors whatever else the machine is running.
import { createHash } from 'node:crypto';

/** Answers a `{ floor: body }` message with `{ floorMs }`; true when the message was one. */
export function answerFloor(message) {
  if (typeof message !== 'object' || !message?.floor) return false;
  const raw = Buffer.from(message.floor);
  const once = () => [createHash('sha256').update(raw).digest('hex'), JSON.stringify(JSON.parse(message.floor))];
  for (let i = 0; i < 20; i++) once();
  const before = process.cpuUsage();
  for (let i = 0; i < 100; i++) once();
  const used = process.cpuUsage(before);
  process.send({ floorMs: (used.user + used.system) / 1000 / 100 });
  return true;
}
