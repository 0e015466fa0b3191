/**
 * The tiny slice of a PostgreSQL client the store needs, implemented by PGlite (embedded, a
 * directory under DATA_DIR) and by node-postgres (DATABASE_URL), so the store's SQL is the same.
 */
import { mkdir } from 'node:fs/promises';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';

export type SqlParam = string | number | boolean | null | Uint8Array;

export interface SqlQueryable {
  query<Row = Record<string, unknown>>(sql: string, params?: SqlParam[]): Promise<Row[]>;
}

export interface SqlClient extends SqlQueryable {
  readonly kind: 'pglite' | 'postgres';
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openPglite(directory: string): Promise<SqlClient> {
  await mkdir(directory, { recursive: true });
  const db = await PGlite.create(directory);
  return {
    kind: 'pglite',
    async query<Row>(sql: string, params: SqlParam[] = []) {
      return (await db.query<Row>(sql, params)).rows;
    },
    transaction(fn) {
      return db.transaction((tx) =>
        fn({
          async query<Row>(sql: string, params: SqlParam[] = []) {
            return (await tx.query<Row>(sql, params)).rows;
          },
        }),
      );
    },
    close: () => db.close(),
  };
}

/** node-postgres takes Buffers for bytea; a plain Uint8Array would be sent as an array literal. */
function toPgParams(params: SqlParam[]): unknown[] {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}

/** The connection string without its password, for messages. */
function redactPostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

/** Connects once, with a time bound: the clear error a process exits with when PostgreSQL is unreachable at start. */
export async function probePostgres(connectionString: string, timeoutMs = 5000): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    const reason = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
    throw new Error(`PostgreSQL at ${redactPostgresUrl(connectionString)} is unreachable: ${reason}`);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function openPostgres(connectionString: string): Promise<SqlClient> {
  // Fail fast at start when the database is unreachable.
  await probePostgres(connectionString);
  const pool = new pg.Pool({ connectionString, max: 5 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    async query<Row>(sql: string, params: SqlParam[] = []) {
      return (await pool.query(sql, toPgParams(params))).rows as Row[];
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query<Row>(sql: string, params: SqlParam[] = []) {
            return (await client.query(sql, toPgParams(params))).rows as Row[];
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
