/** What a system admin sets for a tenant (`PUT /v1/tenants/{id}/quotas`): its rates, per second. */
export interface TenantQuotas {
  /** Every call of the tenant's keys. */
  requestsPerSecond?: number;
  /** Tasks submitted (a batch counts each of its tasks), invokes and executions started. */
  submitsPerSecond?: number;
}

export type RateKind = 'requests' | 'submits';

/**
 * A token bucket: `rate` tokens a second, holding at most one second's worth (the burst), full at
 * first. Time is given, so it is exact under test.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly rate: number,
    now: number,
  ) {
    this.tokens = rate;
    this.at = now;
  }

  /** Takes `n` tokens if they are there; otherwise takes none and says when they will be. */
  take(n: number, now: number): { ok: boolean; remaining: number; retryAfterMs: number } {
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (n <= this.tokens) {
      this.tokens -= n;
      return { ok: true, remaining: Math.floor(this.tokens), retryAfterMs: 0 };
    }
    // More than a burst can never pass: it is refused for good, by a caller that splits it.
    return { ok: false, remaining: Math.floor(this.tokens), retryAfterMs: n > this.rate ? Number.POSITIVE_INFINITY : Math.ceil(((n - this.tokens) / this.rate) * 1000) };
  }
}
