import type { TaskOutcome } from '../../core/outcomes.js';
import { type OutcomeFeed, unknownConsumer } from '../outcome-feed.js';
import { toOutcome } from '../rows.js';
import type { PgConnection, Row } from './connection.js';

/*
 * The feed on PostgreSQL, where seqs are drawn at insert but seen at commit: two replicas' moves
 * can commit out of seq order, and a cursor of seqs alone would skip the one that committed late.
 * Each outcome row carries the id of the transaction that wrote it, and a reader is handed only
 * rows whose transaction is older than every transaction still running (the xmin of its
 * snapshot): those are all committed or gone, so no row can appear before them later. Order is
 * (transaction id, seq), and a cursor is such a pair. A transaction's id is drawn at its first
 * write, so a task's later outcome (written after the earlier one committed) always sorts after it.
 * The price is a delay of as long as the oldest running write transaction on the database.
 */
const FEED_SQL = {
  register: 'INSERT INTO feed_consumers (name) VALUES ($1) ON CONFLICT (name) DO NOTHING',
  // The cursor as scalar subqueries, so the row comparison reaches the (txid, seq) index as a range.
  read: `WITH c AS (SELECT after_txid, after_seq FROM feed_consumers WHERE name = $1)
    SELECT o.*, o.txid::text AS txid FROM task_outcomes o
    WHERE (o.txid, o.seq) > ((SELECT after_txid FROM c), (SELECT after_seq FROM c))
      AND o.txid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY o.txid, o.seq LIMIT $2`,
  ack: `UPDATE feed_consumers SET after_txid = $2::xid8, after_seq = $3, acked_at = $4
    WHERE name = $1 AND (after_txid, after_seq) < ($2::xid8, $3::bigint)`,
  exists: 'SELECT 1 FROM feed_consumers WHERE name = $1',
  // What every consumer is past (a row subquery of no consumers is NULL, and a comparison with
  // NULL holds for no row), and what precedes the first outcome recorded at or after the
  // retention's start (rows come in time order, so the index walk stops there), or all of them.
  prune: `WITH kept AS (SELECT txid, seq FROM task_outcomes WHERE at >= $1 ORDER BY txid, seq LIMIT 1)
    DELETE FROM task_outcomes
    WHERE (txid, seq) <= (SELECT after_txid, after_seq FROM feed_consumers ORDER BY after_txid, after_seq LIMIT 1)
      OR NOT EXISTS (SELECT 1 FROM kept) OR (txid, seq) < (SELECT txid, seq FROM kept)`,
} as const;

export class PgOutcomeFeed implements OutcomeFeed {
  constructor(private readonly conn: PgConnection) {}

  async registerConsumer(name: string): Promise<void> {
    await this.conn.sql.run(FEED_SQL.register, [name]);
  }

  async readOutcomes(consumer: string, limit: number): Promise<TaskOutcome[]> {
    const rows = await this.conn.sql.rows(FEED_SQL.read, [consumer, limit]);
    if (rows.length === 0) await this.assertConsumer(consumer);
    return rows.map((r: Row) => toOutcome(r, `${r.txid as string}:${Number(r.seq)}`));
  }

  async ackOutcomes(consumer: string, through: TaskOutcome): Promise<void> {
    const [txid, seq] = through.position.split(':');
    const moved = await this.conn.sql.run(FEED_SQL.ack, [consumer, txid, Number(seq), this.conn.clock.now()]);
    // Nothing moved: the cursor was already past it, or there is no such consumer.
    if (moved === 0) await this.assertConsumer(consumer);
  }

  async pruneOutcomes(before: number): Promise<number> {
    return this.conn.sql.run(FEED_SQL.prune, [before]);
  }

  private async assertConsumer(name: string): Promise<void> {
    if (!(await this.conn.sql.one(FEED_SQL.exists, [name]))) throw unknownConsumer(name);
  }
}
