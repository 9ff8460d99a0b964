import type { IdGenerator } from '@opentelemetry/sdk-trace';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function randomHex(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += HEX[(Math.random() * 256) | 0];
  return out;
}

/**
 * Trace and span ids from `Math.random` (the SDK's own generator fills a crypto buffer for every
 * span, a measurable share of a traced request): ids must be unique and random, not unguessable.
 * An all-zero id is invalid in W3C trace context, and is drawn again.
 */
export const fastIds: IdGenerator = {
  generateTraceId() {
    let id = randomHex(16);
    while (id === '00000000000000000000000000000000') id = randomHex(16);
    return id;
  },
  generateSpanId() {
    let id = randomHex(8);
    while (id === '0000000000000000') id = randomHex(8);
    return id;
  },
};
