// Types for pgatomic/jest (node/jest.js).
import type { Database, DatabaseOptions } from '../node/index';

export interface UseDatabaseOptions {
  /** The server to make the file's database on; default PGATOMIC_TEST_DSN, else a throwaway one. */
  dsn?: string;
  /** Run once after the database is made (committed): SQL text or a function of the Database. */
  setup?: string | ((db: Database) => unknown | Promise<unknown>);
  /** Options of the file's Database (not its connection, which the helper picks). */
  options?: Omit<DatabaseOptions, 'connectionString' | 'host' | 'port' | 'user' | 'password' | 'database' | 'ssl'>;
}

/** The file's Database (ready in beforeAll and after), plus `url`, its connection string. */
export type TestDatabase = Database & { readonly url: string };

/** A database of its own for this test file, each test in a transaction rolled back afterwards. */
export declare function useDatabase(options?: UseDatabaseOptions): TestDatabase;

/** A throwaway server (initdb + pg_ctl); resolves to its DSN and a stop(). */
export declare function startServer(): Promise<{ dsn: string; stop(): Promise<void> }>;
export declare function globalSetup(): Promise<void>;
export declare function globalTeardown(): Promise<void>;
