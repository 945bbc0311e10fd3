/**
 * Whether the egress proxy must refuse to connect to an address: loopback, private, link-local,
 * multicast, reserved, and every IPv6 form that carries an IPv4 address the network may route
 * back inside. IPv6 forms that embed IPv4:
 *
 * - IPv4-mapped `::ffff:a.b.c.d` (also written `::ffff:7f00:1`) and the NAT64 well-known prefix
 *   `64:ff9b::/96`: the embedded IPv4 address is decoded and judged like any IPv4 address. NAT64
 *   is how IPv6-only hosts reach the IPv4 internet, so refusing it outright would cut them off.
 * - refused outright, whatever they embed: the local-use NAT64 prefix `64:ff9b:1::/48` (where the
 *   IPv4 part sits depends on the operator's prefix length, and it is local by definition), 6to4
 *   `2002::/16` and Teredo `2001::/32` (deprecated tunnels through relays we do not control), the
 *   deprecated IPv4-compatible `::/96` and SIIT's `::ffff:0:0:0/96`.
 *
 * The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are
 * not refused: they lead nowhere inside, and some networks answer DNS with them for a
 * TLS-inspecting proxy (this CI machine resolves registry.npmjs.org to 203.0.113.80).
 */
import { BlockList, isIP } from 'node:net';

const internalV4 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  // The 6to4 relay anycast block (deprecated): traffic to it ends up in a tunnel.
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  internalV4.addSubnet(net, bits, 'ipv4');

const internalV6 = new BlockList();
for (const [net, bits] of [
  // IPv4-compatible (deprecated; also covers :: and ::1).
  ['::', 96],
  // SIIT IPv4-translated.
  ['::ffff:0:0:0', 96],
  ['64:ff9b:1::', 48],
  // Discard-only.
  ['100::', 64],
  // Teredo.
  ['2001::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  // Site-local (deprecated, still routed inside some networks).
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  internalV6.addSubnet(net, bits, 'ipv6');

/** True when an address must not be dialled from a sandbox (anything unparsable included). */
export function isInternalAddress(address: string): boolean {
  // A zone (`fe80::1%eth0`) only ever comes with link-local addresses; judge the address.
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return internalV4.check(bare, 'ipv4');
  if (family !== 6) return true;
  const words = ipv6Words(bare);
  if (!words) return true;
  const embedded = embeddedIpv4(words);
  if (embedded !== null) return internalV4.check(embedded, 'ipv4');
  return internalV6.check(bare, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped or NAT64 well-known-prefix address, else null. */
function embeddedIpv4(w: readonly number[]): string | null {
  const mapped = w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff;
  const nat64 = w[0] === 0x64 && w[1] === 0xff9b && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0;
  if (!mapped && !nat64) return null;
  const hi = w[6]!;
  const lo = w[7]!;
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** The eight 16-bit groups of a valid IPv6 address (`isIP` already said 6), dotted tail included. */
function ipv6Words(address: string): number[] | null {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail, extra] = text.split('::');
  if (extra !== undefined) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const words = [...left, ...new Array<number>(missing).fill(0), ...right];
  return words.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff) ? words : null;
}
