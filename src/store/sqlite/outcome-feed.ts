import type { TaskOutcome } from '../../core/outcomes.js';
import { type OutcomeFeed, unknownConsumer } from '../outcome-feed.js';
import { toOutcome } from '../rows.js';
import type { Row, SqliteConnection } from './connection.js';

/**
 * The feed on SQLite: one writer at a time, so outcomes become visible in seq order and a
 * consumer's cursor is the last seq it acknowledged.
 */
export class SqliteOutcomeFeed implements OutcomeFeed {
  constructor(private readonly conn: SqliteConnection) {}

  async registerConsumer(name: string): Promise<void> {
    this.conn.sql('INSERT OR IGNORE INTO feed_consumers (name, after_seq) VALUES (?, 0)').run(name);
  }

  async readOutcomes(consumer: string, limit: number): Promise<TaskOutcome[]> {
    const rows = this.conn
      .sql('SELECT o.* FROM task_outcomes o, feed_consumers c WHERE c.name = ? AND o.seq > c.after_seq ORDER BY o.seq LIMIT ?')
      .all(consumer, limit) as Row[];
    if (rows.length === 0) this.assertConsumer(consumer);
    return rows.map((r) => toOutcome(r, String(r.seq)));
  }

  async ackOutcomes(consumer: string, through: TaskOutcome): Promise<void> {
    const seq = Number(through.position);
    const moved = this.conn.sql('UPDATE feed_consumers SET after_seq = max(after_seq, ?), acked_at = ? WHERE name = ?').run(seq, this.conn.clock.now(), consumer);
    if (moved.changes === 0) throw unknownConsumer(consumer);
  }

  async pruneOutcomes(before: number): Promise<number> {
    // min() of no consumers is NULL, and `seq <= NULL` holds for no row.
    return this.conn.sql('DELETE FROM task_outcomes WHERE seq <= (SELECT min(after_seq) FROM feed_consumers) OR at < ?').run(before).changes;
  }

  private assertConsumer(name: string): void {
    if (!this.conn.sql('SELECT 1 FROM feed_consumers WHERE name = ?').get(name)) throw unknownConsumer(name);
  }
}
