/**
 * The first `limit` bytes of a body as text; leaving early releases (destroys) the rest. A body
 * that breaks mid-read still gives whatever arrived: callers only describe it.
 */
export async function readBounded(body: AsyncIterable<Uint8Array>, limit: number): Promise<string> {
  const decoder = new TextDecoder();
  let out = '';
  let size = 0;
  try {
    for await (const chunk of body) {
      const room = limit - size;
      const part = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
      out += decoder.decode(part, { stream: true });
      size += part.byteLength;
      if (size >= limit) break;
    }
  } catch {
    // What arrived is enough to describe the body.
  }
  return out + decoder.decode();
}
