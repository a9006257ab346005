/**
 * @module platform/storage/metadata
 * Lambkin's metadata in embedded SQLite (node:sqlite): layers and their versions, functions ($LATEST, published
 * versions, aliases, tags, reserved concurrency) and the queue of asynchronous invocations. WAL with
 * `synchronous=FULL`: once a request has been answered, its change survives `kill -9`. Records are stored as JSON
 * documents beside the columns used to look them up; the schema is versioned with `user_version`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { PlatformError } from '../errors.ts';

export interface LayerVersionRecord {
  layerName: string;
  version: number;
  description: string;
  licenseInfo: string | null;
  compatibleRuntimes: string[];
  compatibleArchitectures: string[];
  codeSha256Hex: string;
  codeSha256: string;
  codeSize: number;
  unzippedSize: number;
  createdDate: string;
}

export interface FunctionLayerRef {
  arn: string;
  codeSize: number;
  codeSha256Hex: string;
  unzippedSize: number;
}

/** One function version's configuration ($LATEST or a published number), in Lambkin's own camelCase. */
export interface FunctionRecord {
  name: string;
  version: string;
  runtime: string;
  role: string;
  handler: string;
  description: string;
  timeout: number;
  memorySize: number;
  environment: Record<string, string>;
  layers: FunctionLayerRef[];
  codeSha256Hex: string;
  codeSha256: string;
  codeSize: number;
  unzippedSize: number;
  ephemeralStorage: number;
  architectures: string[];
  logFormat: 'Text' | 'JSON';
  logGroup: string;
  applicationLogLevel?: string;
  systemLogLevel?: string;
  tracingMode: string;
  lastModified: string;
  revisionId: string;
  state: 'Pending' | 'Active' | 'Inactive' | 'Failed';
  stateReason?: string;
  stateReasonCode?: string;
  lastUpdateStatus: 'InProgress' | 'Successful' | 'Failed';
  lastUpdateStatusReason?: string;
  lastUpdateStatusReasonCode?: string;
  /** `TenancyConfig.TenantIsolationMode`, set at creation only. */
  tenantIsolationMode?: 'PER_TENANT';
}

export interface AliasRecord {
  functionName: string;
  name: string;
  functionVersion: string;
  description: string;
  additionalVersionWeights: Record<string, number>;
  revisionId: string;
}

export interface QueuedEvent {
  id: string;
  functionName: string;
  qualifier: string;
  payload: Buffer;
  attempts: number;
  notBefore: number;
  enqueuedAt: number;
  /** `X-Amz-Tenant-Id` of a tenant-isolated function's event. */
  tenantId?: string;
}

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many have run. Append, never edit: a data
 * directory written by an older Lambkin is brought forward on open.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE layers (name TEXT PRIMARY KEY, next_version INTEGER NOT NULL);
   CREATE TABLE layer_versions (
     name TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (name, version));
   CREATE TABLE functions (
     name TEXT PRIMARY KEY, doc TEXT NOT NULL, next_version INTEGER NOT NULL DEFAULT 1,
     tags TEXT NOT NULL DEFAULT '{}', reserved_concurrency INTEGER);
   CREATE TABLE versions (
     name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE, version INTEGER NOT NULL, doc TEXT NOT NULL,
     PRIMARY KEY (name, version));
   CREATE TABLE aliases (
     name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE, alias TEXT NOT NULL, doc TEXT NOT NULL,
     PRIMARY KEY (name, alias));
   CREATE TABLE event_queue (
     id TEXT PRIMARY KEY, function_name TEXT NOT NULL, qualifier TEXT NOT NULL, payload BLOB NOT NULL,
     attempts INTEGER NOT NULL, not_before INTEGER NOT NULL, enqueued_at INTEGER NOT NULL);`,
  `CREATE INDEX event_queue_due ON event_queue (not_before, enqueued_at);`,
  `ALTER TABLE event_queue ADD COLUMN tenant_id TEXT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class MetadataStore {
  readonly #db: DatabaseSync;
  /** Prepared once, reused: Invoke reads the store on every call. */
  readonly #statements = new Map<string, StatementSync>();
  #depth = 0;
  #generation = 0;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
    this.#db.exec('PRAGMA busy_timeout = 5000;');
    this.#migrate();
  }

  /** The schema version of the open database. */
  get schemaVersion(): number {
    return (this.#db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  }

  #migrate(): void {
    const from = this.schemaVersion;
    if (from > MIGRATIONS.length) {
      throw new PlatformError(
        'ERR_INTERNAL',
        `the data directory was written by a newer Lambkin (schema ${from} > ${MIGRATIONS.length})`,
      );
    }
    for (let v = from; v < MIGRATIONS.length; v++) {
      this.transaction(() => {
        this.#db.exec(MIGRATIONS[v] ?? '');
        this.#db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) {
      this.#depth++;
      try {
        return fn();
      } finally {
        this.#depth--;
      }
    }
    this.#db.exec('BEGIN IMMEDIATE');
    this.#depth = 1;
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    } finally {
      this.#depth = 0;
      this.#generation++;
    }
  }

  // ── layers ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** Stores a new version of `layerName` and returns its number (never reused, even after deletions). */
  addLayerVersion(record: Omit<LayerVersionRecord, 'version'>): LayerVersionRecord {
    return this.transaction(() => {
      const row = this.#get<{ next_version: number }>(
        'SELECT next_version FROM layers WHERE name = ?',
        record.layerName,
      );
      const version = row?.next_version ?? 1;
      this.#run(
        'INSERT INTO layers (name, next_version) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET next_version = excluded.next_version',
        record.layerName,
        version + 1,
      );
      const full = { ...record, version };
      this.#run(
        'INSERT INTO layer_versions (name, version, doc) VALUES (?, ?, ?)',
        record.layerName,
        version,
        JSON.stringify(full),
      );
      return full;
    });
  }

  getLayerVersion(layerName: string, version: number): LayerVersionRecord | null {
    const row = this.#get<{ doc: string }>(
      'SELECT doc FROM layer_versions WHERE name = ? AND version = ?',
      layerName,
      version,
    );
    return row === undefined ? null : (JSON.parse(row.doc) as LayerVersionRecord);
  }

  listLayerVersions(layerName: string): LayerVersionRecord[] {
    return this.#all<{ doc: string }>(
      'SELECT doc FROM layer_versions WHERE name = ? ORDER BY version DESC',
      layerName,
    ).map((r) => JSON.parse(r.doc) as LayerVersionRecord);
  }

  /** Names of layers that have at least one version. */
  listLayerNames(): string[] {
    return this.#all<{ name: string }>('SELECT DISTINCT name FROM layer_versions ORDER BY name').map((r) => r.name);
  }

  /** False when there was no such version. */
  deleteLayerVersion(layerName: string, version: number): boolean {
    return this.#run('DELETE FROM layer_versions WHERE name = ? AND version = ?', layerName, version).changes === 1;
  }

  // ── functions ──────────────────────────────────────────────────────────────────────────────────────────────

  getFunction(name: string): FunctionRecord | null {
    const row = this.#get<{ doc: string }>('SELECT doc FROM functions WHERE name = ?', name);
    return row === undefined ? null : (JSON.parse(row.doc) as FunctionRecord);
  }

  /** Inserts a new function; false when one of that name exists. */
  createFunction(record: FunctionRecord, tags: Record<string, string>): boolean {
    const result = this.#run(
      'INSERT INTO functions (name, doc, tags) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING',
      record.name,
      JSON.stringify(record),
      JSON.stringify(tags),
    );
    return result.changes === 1;
  }

  putFunction(record: FunctionRecord): void {
    this.#run('UPDATE functions SET doc = ? WHERE name = ?', JSON.stringify(record), record.name);
  }

  deleteFunction(name: string): void {
    this.transaction(() => {
      this.#run('DELETE FROM event_queue WHERE function_name = ?', name);
      this.#run('DELETE FROM functions WHERE name = ?', name);
    });
  }

  listFunctions(afterName: string | null, limit: number): FunctionRecord[] {
    return this.#all<{ doc: string }>(
      'SELECT doc FROM functions WHERE name > ? ORDER BY name LIMIT ?',
      afterName ?? '',
      limit,
    ).map((r) => JSON.parse(r.doc) as FunctionRecord);
  }

  /** Functions whose last change was acknowledged but not yet made ready (e.g. the server died in between). */
  functionsInTransition(): FunctionRecord[] {
    return this.#all<{ doc: string }>(
      `SELECT doc FROM functions WHERE json_extract(doc, '$.state') = 'Pending'
         OR json_extract(doc, '$.lastUpdateStatus') = 'InProgress' ORDER BY name`,
    ).map((r) => JSON.parse(r.doc) as FunctionRecord);
  }

  countFunctions(): { count: number; codeSize: number } {
    const rows = this.#all<{ doc: string }>('SELECT doc FROM functions');
    let codeSize = 0;
    for (const r of rows) codeSize += (JSON.parse(r.doc) as FunctionRecord).codeSize;
    return { count: rows.length, codeSize };
  }

  // ── versions ───────────────────────────────────────────────────────────────────────────────────────────────

  /** Publishes `record` (a copy of $LATEST) as the next version number; returns the number. */
  publishVersion(name: string, make: (version: string) => FunctionRecord): FunctionRecord {
    return this.transaction(() => {
      const row = this.#get<{ next_version: number }>('SELECT next_version FROM functions WHERE name = ?', name);
      const version = row?.next_version ?? 1;
      const record = make(String(version));
      this.#run('INSERT INTO versions (name, version, doc) VALUES (?, ?, ?)', name, version, JSON.stringify(record));
      this.#run('UPDATE functions SET next_version = ? WHERE name = ?', version + 1, name);
      return record;
    });
  }

  getVersion(name: string, version: string): FunctionRecord | null {
    const n = Number(version);
    if (!Number.isInteger(n)) return null;
    const row = this.#get<{ doc: string }>('SELECT doc FROM versions WHERE name = ? AND version = ?', name, n);
    return row === undefined ? null : (JSON.parse(row.doc) as FunctionRecord);
  }

  /** Rewrites a published version's record (only its state changes once published). */
  putVersion(record: FunctionRecord): void {
    this.#run(
      'UPDATE versions SET doc = ? WHERE name = ? AND version = ?',
      JSON.stringify(record),
      record.name,
      Number(record.version),
    );
  }

  listVersions(name: string): FunctionRecord[] {
    return this.#all<{ doc: string }>('SELECT doc FROM versions WHERE name = ? ORDER BY version', name).map(
      (r) => JSON.parse(r.doc) as FunctionRecord,
    );
  }

  deleteVersion(name: string, version: string): void {
    this.transaction(() => {
      this.#run('DELETE FROM event_queue WHERE function_name = ? AND qualifier = ?', name, version);
      this.#run('DELETE FROM versions WHERE name = ? AND version = ?', name, Number(version));
    });
  }

  // ── aliases ────────────────────────────────────────────────────────────────────────────────────────────────

  getAlias(functionName: string, alias: string): AliasRecord | null {
    const row = this.#get<{ doc: string }>('SELECT doc FROM aliases WHERE name = ? AND alias = ?', functionName, alias);
    return row === undefined ? null : (JSON.parse(row.doc) as AliasRecord);
  }

  /** Inserts or replaces; `mustBeNew` makes an existing alias a conflict (returns false). */
  putAlias(record: AliasRecord, mustBeNew: boolean): boolean {
    const sql = mustBeNew
      ? 'INSERT INTO aliases (name, alias, doc) VALUES (?, ?, ?) ON CONFLICT(name, alias) DO NOTHING'
      : 'INSERT INTO aliases (name, alias, doc) VALUES (?, ?, ?) ON CONFLICT(name, alias) DO UPDATE SET doc = excluded.doc';
    return this.#run(sql, record.functionName, record.name, JSON.stringify(record)).changes === 1;
  }

  listAliases(functionName: string): AliasRecord[] {
    return this.#all<{ doc: string }>('SELECT doc FROM aliases WHERE name = ? ORDER BY alias', functionName).map(
      (r) => JSON.parse(r.doc) as AliasRecord,
    );
  }

  deleteAlias(functionName: string, alias: string): void {
    this.#run('DELETE FROM aliases WHERE name = ? AND alias = ?', functionName, alias);
  }

  // ── tags and concurrency ───────────────────────────────────────────────────────────────────────────────────

  getTags(name: string): Record<string, string> {
    const row = this.#get<{ tags: string }>('SELECT tags FROM functions WHERE name = ?', name);
    return row === undefined ? {} : (JSON.parse(row.tags) as Record<string, string>);
  }

  setTags(name: string, tags: Record<string, string>): void {
    this.#run('UPDATE functions SET tags = ? WHERE name = ?', JSON.stringify(tags), name);
  }

  /** Adds `set` and removes `remove` in one step; returns the resulting tags. */
  updateTags(name: string, set: Record<string, string>, remove: readonly string[]): Record<string, string> {
    return this.transaction(() => {
      const drop = new Set(remove);
      const tags = Object.fromEntries(
        Object.entries({ ...this.getTags(name), ...set }).filter(([key]) => !drop.has(key)),
      );
      this.setTags(name, tags);
      return tags;
    });
  }

  getReservedConcurrency(name: string): number | null {
    const row = this.#get<{ reserved_concurrency: number | null }>(
      'SELECT reserved_concurrency FROM functions WHERE name = ?',
      name,
    );
    return row?.reserved_concurrency ?? null;
  }

  setReservedConcurrency(name: string, value: number | null): void {
    this.#run('UPDATE functions SET reserved_concurrency = ? WHERE name = ?', value, name);
  }

  /** Sum of reserved concurrency over all functions but `except`. */
  totalReservedConcurrency(except?: string): number {
    const row = this.#get<{ total: number | null }>(
      'SELECT SUM(reserved_concurrency) AS total FROM functions WHERE name != ?',
      except ?? '',
    );
    return row?.total ?? 0;
  }

  // ── asynchronous invocations ───────────────────────────────────────────────────────────────────────────────

  enqueueEvent(event: QueuedEvent): void {
    this.#run(
      'INSERT INTO event_queue (id, function_name, qualifier, payload, attempts, not_before, enqueued_at, tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      event.id,
      event.functionName,
      event.qualifier,
      event.payload,
      event.attempts,
      event.notBefore,
      event.enqueuedAt,
      event.tenantId ?? null,
    );
  }

  /** Events due at `now`, oldest first. */
  dueEvents(now: number, limit: number): QueuedEvent[] {
    return this.#all<{
      id: string;
      function_name: string;
      qualifier: string;
      payload: Uint8Array;
      attempts: number;
      not_before: number;
      enqueued_at: number;
      tenant_id: string | null;
    }>('SELECT * FROM event_queue WHERE not_before <= ? ORDER BY not_before, enqueued_at LIMIT ?', now, limit).map(
      (r) => ({
        id: r.id,
        functionName: r.function_name,
        qualifier: r.qualifier,
        payload: Buffer.from(r.payload),
        attempts: r.attempts,
        notBefore: r.not_before,
        enqueuedAt: r.enqueued_at,
        ...(r.tenant_id !== null ? { tenantId: r.tenant_id } : {}),
      }),
    );
  }

  rescheduleEvent(id: string, attempts: number, notBefore: number): void {
    this.#run('UPDATE event_queue SET attempts = ?, not_before = ? WHERE id = ?', attempts, notBefore, id);
  }

  deleteEvent(id: string): void {
    this.#run('DELETE FROM event_queue WHERE id = ?', id);
  }

  pendingEvents(): number {
    return this.#get<{ n: number }>('SELECT COUNT(*) AS n FROM event_queue')?.n ?? 0;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #prepared(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Bumped by every write (and every transaction's end): a read cache is valid while it has not moved. */
  get generation(): number {
    return this.#generation;
  }

  #run(sql: string, ...params: SQLInputValue[]): { changes: number | bigint } {
    this.#generation++;
    return this.#prepared(sql).run(...params);
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the row shape it selected
  #get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.#prepared(sql).get(...params) as T | undefined;
  }

  #all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.#prepared(sql).all(...params) as T[];
  }
}
