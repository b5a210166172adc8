import Database from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { type HotStatements, prepareHotStatements } from './statements.js';

export type Row = Record<string, unknown>;

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

  /** Runs `work` in an IMMEDIATE transaction: the write lock is taken before the first read. */
  immediate<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
