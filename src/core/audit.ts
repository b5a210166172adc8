/** One change made through the API, as the audit log keeps it: who, when, what and from where. */
export interface AuditEntry {
  seq: number;
  tenantId: string;
  at: number;
  /** The key that made it; null for a caller without one (a signed webhook). */
  keyId: string | null;
  /** The route: `DELETE /v1/functions/:functionId`. */
  action: string;
  /** What it named: the route's parameters (`{"functionId": "fn_…"}`), as JSON text. */
  resource: string;
  /** Where it came from: the client's address. */
  source: string;
  /** The answer's HTTP status. */
  status: number;
}

export type NewAuditEntry = Omit<AuditEntry, 'seq'>;

export interface AuditFilter {
  action?: string;
  keyId?: string;
  since?: number;
  until?: number;
}
