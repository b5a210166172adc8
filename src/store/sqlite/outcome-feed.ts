import type { TaskOutcome } from '../../core/outcomes.js';
import { type OutcomeFeed, unknownConsumer } from '../outcome-feed.js';
import { toOutcome } from '../rows.js';
import type { Row, SqliteConnection } from './connection.js';

/**
 * What every consumer is past (min() of no consumers is NULL, and `seq <= NULL` holds for no row),
 * and what precedes the first outcome recorded at or after the retention's start (rows come in
 * time order, so this walks only the rows it deletes); never the newest row, whose seq a new
 * outcome's must exceed (a rowid is max + 1).
 */
const FEED_PRUNE = `DELETE FROM task_outcomes WHERE seq < (SELECT max(seq) FROM task_outcomes) AND (
    seq <= (SELECT min(after_seq) FROM feed_consumers)
    OR seq < coalesce((SELECT seq FROM task_outcomes WHERE at >= ? ORDER BY seq LIMIT 1), (SELECT max(seq) FROM task_outcomes)))`;

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
    return this.conn.sql(FEED_PRUNE).run(before).changes;
  }

  private assertConsumer(name: string): void {
    if (!this.conn.sql('SELECT 1 FROM feed_consumers WHERE name = ?').get(name)) throw unknownConsumer(name);
  }
}
