import { BlockList, isIP } from 'node:net';
import { invalid } from './errors.js';

/**
 * Which addresses a webhook may not be sent to (server-side request forgery): loopback, private,
 * link-local (cloud metadata services live at 169.254.169.254), shared, multicast and reserved
 * ranges, in IPv4 and IPv6, and IPv6 forms that carry an IPv4 address (mapped, NAT64) judged by
 * that address. An operator allows ranges back (FERRY_WEBHOOK_ALLOW_CIDRS).
 */
const FORBIDDEN: readonly (readonly [string, number, 'ipv4' | 'ipv6', string])[] = [
  ['0.0.0.0', 8, 'ipv4', '"this network"'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::', 96, 'ipv6', 'IPv4-compatible (deprecated)'],
  ['100::', 64, 'ipv6', 'discard'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['2002::', 16, 'ipv6', '6to4'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const RANGES = FORBIDDEN.map(([net, prefix, family, label]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, label };
});

/** IPv6 forms that embed an IPv4 address to reach: ::ffff:a.b.c.d (mapped) and 64:ff9b::a.b.c.d (NAT64). */
const EMBEDDING = (() => {
  const list = new BlockList();
  list.addSubnet('::ffff:0:0', 96, 'ipv6');
  list.addSubnet('64:ff9b::', 96, 'ipv6');
  return list;
})();

/** An allow-list of CIDR ranges (`127.0.0.0/8,::1/128`); the error names `name`. */
export function parseCidrs(text: string, name: string): BlockList {
  const list = new BlockList();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [net, bits] = part.split('/');
    const family = isIP(net ?? '');
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) throw invalid(`${name}: "${part}" is not an address range such as 127.0.0.0/8 or ::1/128`);
    list.addSubnet(net!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** Why a connection to `ip` is refused (its range), or null when it may be made: public, or in `allowed`. */
export function forbiddenAddress(ip: string, allowed: BlockList): string | null {
  const family = isIP(ip);
  if (family === 0) return `${ip} is not an IP address`;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (allowed.check(ip, type)) return null;
  if (type === 'ipv6' && EMBEDDING.check(ip, 'ipv6')) {
    const v4 = embeddedIpv4(ip);
    const reason = forbiddenAddress(v4, allowed);
    return reason === null ? null : `${ip} carries ${v4}: ${reason}`;
  }
  const range = RANGES.find((r) => r.family === type && r.list.check(ip, type));
  return range ? `${ip} is a ${range.label} address` : null;
}

/** The IPv4 address in the last 32 bits of an IPv6 one. */
function embeddedIpv4(ip: string): string {
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (dotted) return dotted[1]!;
  const groups = ip.split(':');
  const lo = parseInt(groups.pop() || '0', 16);
  const hi = parseInt(groups.pop() || '0', 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}
