import { describe, expect, it } from 'vitest';
import { forbiddenAddress, parseCidrs } from './outbound-addresses.js';

describe('outbound address policy', () => {
  const none = parseCidrs('', 'FERRY_WEBHOOK_ALLOW_CIDRS');

  it('refuses loopback, private, link-local, metadata and IPv6 forms of them', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '224.0.0.1',
      '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::10.0.0.1', '2002:7f00:1::1']) {
      expect(forbiddenAddress(ip, none), ip).not.toBeNull();
    }
    expect(forbiddenAddress('169.254.169.254', none)).toBe('169.254.169.254 is a link-local (cloud metadata) address');
    expect(forbiddenAddress('::ffff:127.0.0.1', none)).toBe('::ffff:127.0.0.1 carries 127.0.0.1: 127.0.0.1 is a loopback address');
  });

  it('lets public addresses through, and ranges an operator allowed', () => {
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', '172.32.0.1', '192.169.0.1']) expect(forbiddenAddress(ip, none), ip).toBeNull();
    const allowed = parseCidrs('127.0.0.0/8, ::1', 'FERRY_WEBHOOK_ALLOW_CIDRS');
    expect(forbiddenAddress('127.0.0.1', allowed)).toBeNull();
    expect(forbiddenAddress('::1', allowed)).toBeNull();
    expect(forbiddenAddress('::ffff:127.0.0.1', allowed)).toBeNull();
    expect(forbiddenAddress('10.0.0.1', allowed)).not.toBeNull();
  });

  it('refuses an allow-list entry that is not a range, naming the variable', () => {
    expect(() => parseCidrs('127.0.0.0/33', 'FERRY_WEBHOOK_ALLOW_CIDRS')).toThrow('FERRY_WEBHOOK_ALLOW_CIDRS: "127.0.0.0/33" is not an address range');
    expect(() => parseCidrs('localhost', 'X')).toThrow(/^X: "localhost"/);
  });
});
