// The default store: one SQLite file in WAL mode, so the controller writes while `history` and the dashboard read.
// Opening checks the file's integrity; the one writer holds a lease row taken under BEGIN IMMEDIATE.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { COLUMNS, VERSION_TABLE, eventValues, pendingMigrations, rowToEvent, type EventRow } from './schema.js';
import { describeHolder, holderAlive, pollPause, self, type Holder } from './holder.js';
import {
  ALL_SERVICES, PER_SYNC_KINDS, StoreDamagedError, StoreError, StoreLockedError, checkEvent,
  type AppendOptions, type HistoryOptions, type LockOptions, type PruneOptions, type Store, type StoreEvent, type StoreLock,
} from './types.js';
import { makeDirs } from '../make-dirs.js';

const SELECT = `SELECT id, ${COLUMNS.join(', ')} FROM scalepilot_events`;
// Optional filters are JSON arrays bound as one parameter, so each query shape is prepared once.
const FILTERS = `AND time >= @since
  AND (@kinds IS NULL OR kind IN (SELECT value FROM json_each(@kinds)))
  AND (@results IS NULL OR result IN (SELECT value FROM json_each(@results)))
  ORDER BY time DESC, id DESC LIMIT @limit`;
const PER_SYNC = PER_SYNC_KINDS.map((k) => `'${k}'`).join(', ');
/** How often a holder checks that its lease row is still its own. */
const LEASE_CHECK_MS = 5000;
/** SQLite page cache per connection, KiB (SQLite's own default). */
const PAGE_CACHE_KIB = 2000;
const LEASE_ROW = "SELECT host, pid, process_start, acquired_at FROM scalepilot_lock WHERE name = 'writer'";

export interface SqliteOpenOptions {
  /** run SQLite's quick_check when opening a file (default true); a damaged file is refused with what to do */
  integrityCheck?: boolean;
}

interface LockRow {
  host: string;
  pid: number;
  process_start: string | null;
  acquired_at: number;
}

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_VTAB']);

/** What an operator does about a damaged file. */
function damaged(path: string, detail: string): StoreError {
  return new StoreDamagedError(
    `store sqlite:${path} is damaged (${detail}); scalepilot neither reads nor writes it. ` +
      `Move it aside (mv ${path} ${path}.damaged, and its -wal and -shm files) and start again with a new, empty store ` +
      `(controllers then start without history); \`sqlite3 ${path}.damaged .recover\` salvages the events if they are needed`,
  );
}

/** An SQLite failure as a StoreError naming the file, with the cause an operator can act on. */
function storeError(path: string, e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const code = (e as { code?: string }).code ?? '';
  const msg = (e as Error).message;
  if (CORRUPT_CODES.has(code) || /malformed|not a database/i.test(msg)) return damaged(path, msg);
  const hint = code === 'SQLITE_FULL' ? ' (the disk is full)' : code.startsWith('SQLITE_READONLY') ? ' (the file or its directory is read-only)' : code.startsWith('SQLITE_IOERR') ? ' (I/O error: disk full, read-only or failing)' : '';
  return new StoreError(`store sqlite:${path}: ${msg}${hint}`, { cause: e });
}

export class SqliteStore implements Store {
  private readonly insert: Database.Statement;
  private readonly insertKeyed: Database.Statement;
  private readonly byKey: Database.Statement;
  private readonly byService: Database.Statement;
  private readonly all: Database.Statement;
  private readonly byId: Database.Statement;
  private readonly serviceList: Database.Statement;
  private readonly series: Database.Statement;
  private held: { me: Holder; timer: NodeJS.Timeout; lost?: string } | undefined;

  private constructor(private readonly db: Database.Database, private readonly path: string) {
    this.insert = db.prepare(`INSERT INTO scalepilot_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    this.insertKeyed = db.prepare(`INSERT INTO scalepilot_events (${COLUMNS.join(', ')}, record_key) VALUES (${COLUMNS.map(() => '?').join(', ')}, ?) ON CONFLICT (record_key) WHERE record_key IS NOT NULL DO NOTHING`);
    this.byKey = db.prepare('SELECT id FROM scalepilot_events WHERE record_key = ?').pluck();
    this.byService = db.prepare(`${SELECT} WHERE service = @service ${FILTERS}`);
    this.all = db.prepare(`${SELECT} WHERE 1 = 1 ${FILTERS}`);
    this.byId = db.prepare(`${SELECT} WHERE id = ?`);
    this.serviceList = db.prepare('SELECT DISTINCT service FROM scalepilot_events ORDER BY service').pluck();
    this.series = db.prepare(
      `SELECT (time / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS t, MAX(v) AS v FROM (
         SELECT time, (inputs -> '$.values') ->> @metric AS v FROM scalepilot_events
         WHERE service = @service AND time >= @since AND kind = 'decision'
       ) WHERE typeof(v) IN ('integer', 'real') GROUP BY time / CAST(@bucket AS INTEGER) ORDER BY t`,
    );
  }

  /** Opens (creating the file and its directory if needed), checks and migrates. `:memory:` gives a private in-memory store. */
  static open(path: string, o: SqliteOpenOptions = {}): SqliteStore {
    let db: Database.Database;
    try {
      if (path !== ':memory:') makeDirs(dirname(path));
      db = new Database(path, { timeout: 5000 });
    } catch (e) {
      throw new StoreError(`store sqlite:${path}: cannot open: ${(e as Error).message}`, { cause: e });
    }
    try {
      // a new file returns deleted pages to the filesystem (retention), which only works if set before any table exists
      const fresh = (db.prepare("SELECT count(*) FROM sqlite_master").pluck().get() as number) === 0;
      if (fresh) db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // better-sqlite3 builds SQLite with a 16 MB page cache per connection; the controller appends and reads recent
      // rows, which the OS page cache serves as well, so SQLite's own 2 MB default is kept (measured: ~10 MB less RSS)
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      if (path !== ':memory:' && o.integrityCheck !== false && !fresh) {
        const problems = (db.pragma('quick_check(3)') as Array<Record<string, string>>).map((r) => String(Object.values(r)[0]).replace(/\s*\n\s*/g, ' ').trim()).filter((v) => v !== 'ok');
        if (problems.length) throw damaged(path, problems.join('; '));
      }
      migrate(db, `store sqlite:${path}`);
      return new SqliteStore(db, path);
    } catch (e) {
      db.close();
      throw storeError(path, e);
    }
  }

  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw storeError(this.path, e);
    }
  }

  async append(e: StoreEvent, o: AppendOptions = {}): Promise<number> {
    checkEvent(e);
    return this.guard(() => {
      if (o.key === undefined) return Number(this.insert.run(...eventValues(e)).lastInsertRowid);
      const r = this.insertKeyed.run(...eventValues(e), o.key);
      return r.changes ? Number(r.lastInsertRowid) : Number(this.byKey.get(o.key));
    });
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
    return this.guard(() => (stmt.all(params) as EventRow[]).reverse().map(rowToEvent));
  }

  async metricSeries(service: string, metric: string, since: number, bucketMs: number): Promise<Array<{ t: number; v: number }>> {
    const bucket = Math.max(1, Math.floor(bucketMs));
    return this.guard(() => this.series.all({ service, metric, since: Math.floor(since), bucket }) as Array<{ t: number; v: number }>);
  }

  async saveState(service: string, name: string, time: number, data: Uint8Array): Promise<void> {
    this.guard(() => this.db.prepare('INSERT INTO scalepilot_state (service, name, time, data) VALUES (?, ?, ?, ?) ON CONFLICT (service, name) DO UPDATE SET time = excluded.time, data = excluded.data').run(service, name, Math.floor(time), Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  }

  async loadState(service: string, name: string): Promise<{ time: number; data: Uint8Array } | undefined> {
    const row = this.guard(() => this.db.prepare('SELECT time, data FROM scalepilot_state WHERE service = ? AND name = ?').get(service, name) as { time: number; data: Buffer } | undefined);
    return row ? { time: Number(row.time), data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) } : undefined;
  }

  async get(id: number): Promise<StoreEvent | undefined> {
    const row = this.guard(() => this.byId.get(id) as EventRow | undefined);
    return row ? rowToEvent(row) : undefined;
  }

  async services(): Promise<string[]> {
    return this.guard(() => this.serviceList.all() as string[]);
  }

  async prune(o: PruneOptions): Promise<number> {
    return this.guard(() => {
      const a = this.db
        .prepare(`DELETE FROM scalepilot_events WHERE id IN (SELECT id FROM scalepilot_events WHERE time < ? AND kind IN (${PER_SYNC}) ORDER BY time, id LIMIT ?)`)
        .run(o.decisionsBefore, o.limit).changes;
      const b = a >= o.limit
        ? 0
        : this.db
            .prepare(`DELETE FROM scalepilot_events WHERE id IN (SELECT id FROM scalepilot_events WHERE time < ? AND kind NOT IN (${PER_SYNC}) ORDER BY time, id LIMIT ?)`)
            .run(o.eventsBefore, o.limit - a).changes;
      // checkpoints no longer saved (a service removed from the config) go with the changes of their age
      const c = this.db.prepare('DELETE FROM scalepilot_state WHERE time < ?').run(o.eventsBefore).changes;
      // give the freed pages back to the filesystem (files created by this version; older ones reuse them instead)
      if (a + b + c > 0) this.db.pragma('incremental_vacuum');
      return a + b;
    });
  }

  async lock(o: LockOptions = {}): Promise<StoreLock> {
    const me = self();
    let told = '';
    for (;;) {
      const holder = this.guard(() => this.tryLock(me));
      if (holder === undefined) break;
      if (!o.wait) throw new StoreLockedError(`store sqlite:${this.path}`, holder);
      if (holder !== told) o.onWait?.(holder);
      told = holder;
      await pollPause(o.pollMs ?? 1000, o.signal).catch(() => { throw new StoreLockedError(`store sqlite:${this.path}`, holder); });
    }
    const held: NonNullable<SqliteStore['held']> = {
      me,
      timer: setInterval(() => {
        if (!this.db.open) return;
        try {
          const row = this.db.prepare(LEASE_ROW).get() as LockRow | undefined;
          if (row && isMe(row, me)) return;
          // deleted, or taken by a process that has gone since: take it back; a live other holder keeps it
          const other = this.tryLock(me);
          held.lost = other === undefined ? undefined : `taken over by ${other}`;
        } catch {
          // an unreadable store shows up in the writes; the lease is not lost for that
        }
      }, LEASE_CHECK_MS),
    };
    held.timer.unref();
    this.held = held;
    return {
      holder: describeHolder(me),
      lost: () => held.lost,
      release: async () => this.release(),
    };
  }

  /** Takes the lease if it is free or its holder is gone; returns the live holder otherwise. */
  private tryLock(me: Holder): string | undefined {
    return this.db.transaction(() => {
      const row = this.db.prepare(LEASE_ROW).get() as LockRow | undefined;
      if (row && !isMe(row, me) && holderAlive(asHolder(row))) return describeHolder(asHolder(row), row.acquired_at);
      this.db
        .prepare("INSERT INTO scalepilot_lock (name, host, pid, process_start, acquired_at) VALUES ('writer', ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET host = excluded.host, pid = excluded.pid, process_start = excluded.process_start, acquired_at = excluded.acquired_at")
        .run(me.host, me.pid, me.start, Date.now());
      return undefined;
    }).immediate();
  }

  private release(): void {
    const h = this.held;
    if (!h) return;
    this.held = undefined;
    clearInterval(h.timer);
    if (!this.db.open) return;
    try {
      this.db.prepare("DELETE FROM scalepilot_lock WHERE name = 'writer' AND host = ? AND pid = ?").run(h.me.host, h.me.pid);
    } catch {
      // a row left behind names a process that no longer runs, so the next writer takes it over
    }
  }

  async close(): Promise<void> {
    this.release();
    if (this.db.open) this.db.close();
  }
}

const asHolder = (r: LockRow): Holder => ({ host: r.host, pid: r.pid, start: r.process_start });
const isMe = (r: LockRow, me: Holder) => r.host === me.host && r.pid === me.pid && r.process_start === me.start;

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
