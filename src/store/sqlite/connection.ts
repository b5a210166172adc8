import Database from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { type HotStatements, prepareHotStatements } from './statements.js';

export type Row = Record<string, unknown>;

interface PendingWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * One SQLite file in WAL mode, shared by the adapter's slices. better-sqlite3 is synchronous, so
 * every method of a slice runs to completion without yielding and is atomic on its own; writes
 * that read first use IMMEDIATE transactions so a second process on the same file waits instead
 * of failing mid-way.
 */
export class SqliteConnection {
  readonly db: Database.Database;
  readonly stmt: HotStatements;
  private readonly statements = new Map<string, Database.Statement>();
  /** Writes waiting for this turn's group commit (see `immediate`). */
  private pending: PendingWrite[] = [];

  constructor(
    path: string,
    synchronous: 'normal' | 'full',
    readonly clock: Clock,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.stmt = prepareHotStatements(this.db);
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const apply = this.db.transaction(() => {
      const done = new Set(this.db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
      for (const m of SQLITE_MIGRATIONS) {
        if (done.has(m.version)) continue;
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
    });
    apply.immediate();
  }

  /**
   * A prepared statement for this SQL text, prepared once: better-sqlite3's prepare costs more
   * than most of the queries here. Texts vary only by placeholder count, so the cache stays small.
   */
  sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      if (this.statements.size >= 1000) this.statements.clear();
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /**
   * Runs `work` in an IMMEDIATE transaction (the write lock taken before the first read), with
   * every other write asked for in the same turn of the event loop: group commit. A commit costs
   * more than most writes (the WAL frames of every page touched, and with FERRY_SQLITE_SYNC=full
   * an fsync), and concurrent requests touch the same pages, so one commit for a turn's writes
   * writes each page once. Each work runs in a savepoint of its own: one that throws is rolled
   * back alone and rejects alone. Every promise settles only after the commit, so nothing is
   * acknowledged before it is durable; works run in the order they were asked for.
   */
  immediate<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length === 1) setImmediate(() => this.commitPending());
    });
  }

  private commitPending(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const settled: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db
        .transaction(() => {
          if (batch.length === 1) {
            settled.push({ ok: true, value: batch[0]!.work() });
            return;
          }
          // A transaction function called inside a transaction runs as a savepoint.
          for (const w of batch) {
            try {
              settled.push({ ok: true, value: this.db.transaction(w.work)() });
            } catch (error) {
              settled.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      // The work of a batch of one, or the commit itself (a full disk, a lock not had in time).
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => {
      const s = settled[i]!;
      if (s.ok) w.resolve(s.value);
      else w.reject(s.error);
    });
  }

  close(): void {
    // Writes asked for but not yet committed are committed first.
    this.commitPending();
    if (this.db.open) this.db.close();
  }
}
