// The default store: one SQLite file in WAL mode, so the controller writes while `history` and the dashboard read.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { COLUMNS, VERSION_TABLE, eventValues, pendingMigrations, rowToEvent, type EventRow } from './schema.js';
import { ALL_SERVICES, StoreError, checkEvent, type HistoryOptions, type Store, type StoreEvent } from './types.js';

const SELECT = `SELECT id, ${COLUMNS.join(', ')} FROM scalepilot_events`;
// Optional filters are JSON arrays bound as one parameter, so each query shape is prepared once.
const FILTERS = `AND time >= @since
  AND (@kinds IS NULL OR kind IN (SELECT value FROM json_each(@kinds)))
  AND (@results IS NULL OR result IN (SELECT value FROM json_each(@results)))
  ORDER BY time DESC, id DESC LIMIT @limit`;

export class SqliteStore implements Store {
  private readonly insert: Database.Statement;
  private readonly byService: Database.Statement;
  private readonly all: Database.Statement;
  private readonly byId: Database.Statement;
  private readonly serviceList: Database.Statement;

  private constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(`INSERT INTO scalepilot_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    this.byService = db.prepare(`${SELECT} WHERE service = @service ${FILTERS}`);
    this.all = db.prepare(`${SELECT} WHERE 1 = 1 ${FILTERS}`);
    this.byId = db.prepare(`${SELECT} WHERE id = ?`);
    this.serviceList = db.prepare('SELECT DISTINCT service FROM scalepilot_events ORDER BY service').pluck();
  }

  /** Opens (creating the file and its directory if needed) and migrates. `:memory:` gives a private in-memory store. */
  static open(path: string): SqliteStore {
    let db: Database.Database;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { timeout: 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    } catch (e) {
      throw new StoreError(`store sqlite:${path}: cannot open: ${(e as Error).message}`, { cause: e });
    }
    try {
      migrate(db, `store sqlite:${path}`);
      return new SqliteStore(db);
    } catch (e) {
      db.close();
      if (e instanceof StoreError) throw e;
      throw new StoreError(`store sqlite:${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  async append(e: StoreEvent): Promise<number> {
    checkEvent(e);
    return Number(this.insert.run(...eventValues(e)).lastInsertRowid);
  }

  async history(service: string, since: number, opts: HistoryOptions = {}): Promise<StoreEvent[]> {
    const params = {
      service,
      since,
      kinds: opts.kinds ? JSON.stringify(opts.kinds) : null,
      results: opts.results ? JSON.stringify(opts.results) : null,
      limit: opts.limit ?? -1,
    };
    const stmt = service === ALL_SERVICES ? this.all : this.byService;
    return (stmt.all(params) as EventRow[]).reverse().map(rowToEvent);
  }

  async get(id: number): Promise<StoreEvent | undefined> {
    const row = this.byId.get(id) as EventRow | undefined;
    return row ? rowToEvent(row) : undefined;
  }

  async services(): Promise<string[]> {
    return this.serviceList.all() as string[];
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function migrate(db: Database.Database, where: string): void {
  // IMMEDIATE takes the write lock first, so two processes opening a new file do not both migrate it.
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const current = (db.prepare(`SELECT COALESCE(MAX(version), 0) FROM ${VERSION_TABLE}`).pluck().get() as number) ?? 0;
    for (const m of pendingMigrations(current, where)) {
      for (const sql of m.statements.sqlite) db.exec(sql);
      db.prepare(`INSERT INTO ${VERSION_TABLE} (version, description, applied_at) VALUES (?, ?, ?)`).run(m.version, m.description, Date.now());
    }
  }).immediate();
}
