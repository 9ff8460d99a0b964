/** 32-bit FNV-1a: cheap, and spread well enough for a few hundred ring points. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * A consistent-hash ring over a backend's endpoints: a session's key maps to the same endpoint
 * while the set of endpoints is the same, and losing one endpoint moves only its sessions.
 */
export class AffinityRing {
  readonly #points: Uint32Array;
  readonly #owners: Uint16Array;
  readonly #size: number;

  constructor(labels: readonly string[], pointsPerEndpoint = 64) {
    const points = labels.flatMap((label, owner) => Array.from({ length: pointsPerEndpoint }, (_, i) => ({ at: fnv1a(`${label}#${i}`), owner })));
    points.sort((a, b) => a.at - b.at);
    this.#points = Uint32Array.from(points, (p) => p.at);
    this.#owners = Uint16Array.from(points, (p) => p.owner);
    this.#size = labels.length;
  }

  /** Every endpoint once, in the order the key prefers them. */
  order(key: string): number[] {
    const at = fnv1a(key);
    let lo = 0;
    let hi = this.#points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#points[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    const order: number[] = [];
    for (let i = 0; order.length < this.#size && i < this.#points.length; i++) {
      const owner = this.#owners[(lo + i) % this.#points.length]!;
      if (!order.includes(owner)) order.push(owner);
    }
    return order;
  }
}
