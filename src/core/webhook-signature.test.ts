import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newSecret, secretKey, signWebhook, verifyWebhook } from './webhook-signature.js';

describe('Standard Webhooks signatures', () => {
  const secret = newSecret();
  const key = secretKey(secret);
  const body = JSON.stringify({ id: 'task_1', status: 'SUCCEEDED' });
  const now = Date.now();

  it('signs so that the reference library verifies, and verifies what the library signs', () => {
    const headers = signWebhook(key, 'msg_1', now, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    const theirs = new Webhook(secret).sign('msg_2', new Date(now), body);
    expect(verifyWebhook(key, { 'webhook-id': 'msg_2', 'webhook-timestamp': String(Math.floor(now / 1000)), 'webhook-signature': `v1,x v1,${theirs.split(',')[1]}` }, Buffer.from(body), now)).toBeNull();
  });

  it('refuses an altered body, a stale timestamp, another key and missing headers', () => {
    const headers = signWebhook(key, 'msg_1', now, body);
    expect(verifyWebhook(key, headers, Buffer.from(body + ' '), now)).toMatch(/no webhook-signature matches/);
    expect(verifyWebhook(key, headers, Buffer.from(body), now + 301_000)).toMatch(/more than 300 s from now/);
    expect(verifyWebhook(secretKey(newSecret()), headers, Buffer.from(body), now)).toMatch(/no webhook-signature matches/);
    expect(verifyWebhook(key, { 'webhook-id': 'msg_1' }, Buffer.from(body), now)).toMatch(/headers are required/);
  });

  it('refuses a secret that is not whsec_ base64 of at least 24 bytes', () => {
    expect(() => secretKey('abc')).toThrow(/"whsec_" followed by base64/);
    expect(() => secretKey('whsec_!!!')).toThrow(/not base64/);
    expect(() => secretKey(`whsec_${Buffer.alloc(16).toString('base64')}`, 'webhook.secret')).toThrow('webhook.secret: the key is 16 bytes; at least 24 are needed');
  });
});
