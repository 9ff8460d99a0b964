import type { IncomingMessage } from 'node:http';

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  } catch {
    // The client went away mid-body: record what arrived.
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export function modelOf(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'model' in body) {
    const model = body.model;
    if (typeof model === 'string') return model;
  }
  return undefined;
}
