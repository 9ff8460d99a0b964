import { BlockList, isIP } from 'node:net';

/** Address ranges a fetch never connects to, by what they are (IPv4-mapped IPv6 addresses match the IPv4 ranges). */
const REFUSED: ReadonlyArray<readonly [network: string, prefix: number, family: 'ipv4' | 'ipv6', what: string]> = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::', 96, 'ipv6', 'IPv4-compatible (deprecated)'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local (deprecated)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const RANGES = REFUSED.map(([network, prefix, family, what]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, what };
});

/**
 * Which addresses a fetch may connect to: any public address, and none of the private, loopback,
 * link-local, unspecified, CGNAT, multicast or reserved ranges, unless `allow` (CIDRs or single
 * addresses: test and development only) lets one in.
 */
export class AddressGuard {
  readonly #allowed = new BlockList();

  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const { address, prefix } = parseCidr(entry);
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      this.#allowed.addSubnet(address, prefix ?? (family === 'ipv6' ? 128 : 32), family);
    }
  }

  /** Why the address is refused (`10.0.0.1 is private`), or undefined when a fetch may connect to it. */
  refusal(address: string): string | undefined {
    const family = isIP(address);
    if (family === 0) return `${address} is not an IP address`;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (this.#allowed.check(address, type)) return undefined;
    const range = RANGES.find((candidate) => candidate.list.check(address, type));
    return range ? `${address} is ${range.what}` : undefined;
  }
}

/** `127.0.0.1/32`, `fc00::/7` or a bare address; throws with a message for the options check. */
export function parseCidr(entry: string): { address: string; prefix: number | undefined } {
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  const prefix = bits === undefined ? undefined : Number(bits);
  const max = family === 6 ? 128 : 32;
  if (family === 0 || extra !== undefined || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max))) {
    throw new Error(`"${entry}" is not an IP address or CIDR range (like 127.0.0.1/32 or ::1/128)`);
  }
  return { address, prefix };
}
