import type { IncomingMessage } from 'node:http';
import { ProxyError, invalidRequest } from '../errors.js';

const tooLarge = (limit: number) =>
  new ProxyError(`Request body is larger than the proxy's limit of ${limit} bytes (server.bodyLimit).`, {
    code: 'request_too_large',
    type: 'request_too_large',
  });

/** Read and parse a JSON request body once, refusing more than `limit` bytes. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  if (text.trim() === '') throw invalidRequest('Request body is empty; expected a JSON object.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidRequest(`Request body is not valid JSON: ${(error as Error).message}`, 'invalid_json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidRequest('Request body must be a JSON object.', 'invalid_json');
  }
  return parsed as Record<string, unknown>;
}
