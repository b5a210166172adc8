import pg from 'pg';
import type { Leadership } from '../../core/replicas.js';

/**
 * Leader election through a PostgreSQL session advisory lock: the replica whose connection holds
 * it runs the singleton loops. When that replica dies its connection closes and the database
 * frees the lock at once, so another replica takes it on its next try (`pollMs`). The holder
 * checks its connection on the same period and steps down as soon as the check fails, before the
 * database would notice a cut connection and let another replica in.
 */
export class PgLeaderLock implements Leadership {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private leader = false;
  private onChange: (leader: boolean) => void = () => {};
  private ticking: Promise<void> | null = null;
  private stopped = false;

  /** `scope` names the installation (its schema): replicas of one installation compete, others not. */
  constructor(
    private readonly url: string,
    private readonly scope: string,
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(onChange: (leader: boolean) => void): void {
    this.onChange = onChange;
    const tick = (): void => {
      this.ticking ??= this.tick().finally(() => (this.ticking = null));
    };
    this.timer = setInterval(tick, this.pollMs);
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    // Ending the session frees the lock: another replica leads from its next try.
    await this.client?.end().catch(() => {});
    this.client = null;
    this.setLeader(false);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.client) {
        const client = new pg.Client({ connectionString: this.url, keepAlive: true, connectionTimeoutMillis: Math.max(1_000, this.pollMs) });
        client.on('error', () => {});
        await client.connect();
        this.client = client;
      }
      if (this.leader) {
        await this.client.query('SELECT 1');
        return;
      }
      const { rows } = await this.client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext('ferry-leader:' || $1)) AS locked", [this.scope]);
      if (rows[0]?.locked && !this.stopped) this.setLeader(true);
    } catch (err) {
      this.onError(err);
      this.client?.end().catch(() => {});
      this.client = null;
      this.setLeader(false);
    }
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.onChange(leader);
  }
}
