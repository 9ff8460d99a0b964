/** An embedding scaled to length 1, so that cosine similarity is a dot product. */
export type UnitVector = Float32Array;

/** The vector scaled to length 1; `undefined` for one that is empty, zero or not finite. */
export function toUnit(values: readonly number[]): UnitVector | undefined {
  let norm = 0;
  for (const value of values) norm += value * value;
  norm = Math.sqrt(norm);
  if (values.length === 0 || !Number.isFinite(norm) || norm === 0) return undefined;
  return Float32Array.from(values, (value) => value / norm);
}

/** Cosine similarity of two unit vectors; -1 when their lengths differ (another model). */
export function similarity(a: UnitVector, b: UnitVector): number {
  if (a.length !== b.length) return -1;
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

/** Float32 little-endian, the layout Redis' vector search reads. */
export function vectorToBuffer(vector: UnitVector): Buffer {
  const out = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) out.writeFloatLE(vector[i]!, i * 4);
  return out;
}

export function bufferToVector(buffer: Buffer): UnitVector | undefined {
  if (buffer.length === 0 || buffer.length % 4 !== 0) return undefined;
  const out = new Float32Array(buffer.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buffer.readFloatLE(i * 4);
  return out;
}
