import type { FastifyReply } from 'fastify';
import type { Principal } from '../control/auth-service.js';
import { FerryError } from '../core/errors.js';
import { type RateKind, TokenBucket } from '../core/rate-limits.js';

/**
 * Tenants' rates (TenantQuotas), as token buckets held by this replica: each replica admits a
 * tenant's full rate, so behind N replicas a tenant gets up to N times it. Keeping one bucket for
 * all would put a store write on every request; a limit is set per replica instead (see the README).
 * Every answer to a limited tenant carries the IETF `RateLimit-Policy` and `RateLimit` headers.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes `n` of the tenant's `kind`, or throws RATE_LIMITED (with Retry-After set) when they are not there. */
  admit(principal: Principal, kind: RateKind, n: number, reply: FastifyReply): void {
    const rate = kind === 'requests' ? principal.quotas.requestsPerSecond : principal.quotas.submitsPerSecond;
    if (rate === undefined) return;
    const key = `${principal.tenantId}\u0000${kind}`;
    let bucket = this.buckets.get(key);
    const now = this.now();
    if (!bucket || bucket.rate !== rate) {
      if (this.buckets.size > 100_000) this.buckets.clear();
      this.buckets.set(key, (bucket = new TokenBucket(rate, now)));
    }
    const taken = bucket.take(n, now);
    const resetSeconds = taken.ok ? 0 : Math.ceil(taken.retryAfterMs / 1000);
    append(reply, 'ratelimit-policy', `"${kind}";q=${rate};w=1`);
    append(reply, 'ratelimit', `"${kind}";r=${taken.remaining};t=${Number.isFinite(resetSeconds) ? resetSeconds : 1}`);
    if (taken.ok) return;
    const per = kind === 'requests' ? 'requestsPerSecond' : 'submitsPerSecond';
    if (!Number.isFinite(taken.retryAfterMs)) throw new FerryError('RATE_LIMITED', `${n} ${kind} at once are over the tenant's ${per} of ${rate}, which is its burst too: send fewer at a time`);
    void reply.header('retry-after', String(Math.max(1, resetSeconds)));
    throw new FerryError('RATE_LIMITED', `the tenant's ${per} of ${rate} is used up: retry after ${Math.max(1, resetSeconds)} s`, { details: { retryAfterSeconds: Math.max(1, resetSeconds) } });
  }
}

function append(reply: FastifyReply, name: string, value: string): void {
  const had = reply.getHeader(name);
  void reply.header(name, had === undefined ? value : `${String(had)}, ${value}`);
}
