// Types for pgatomic (Node): Sequelize-shaped transactions on the C core.

export type IsolationLevel =
  | 'READ UNCOMMITTED'
  | 'READ COMMITTED'
  | 'REPEATABLE READ'
  | 'SERIALIZABLE';

export declare const ISOLATION_LEVELS: Readonly<{
  READ_UNCOMMITTED: 'READ UNCOMMITTED';
  READ_COMMITTED: 'READ COMMITTED';
  REPEATABLE_READ: 'REPEATABLE READ';
  SERIALIZABLE: 'SERIALIZABLE';
}>;

export type NestMode = 'savepoint' | 'reuse' | 'separate';

/** TLS as node-postgres spells it: `true` verifies the server's certificate and host name
 * (libpq `sslmode=verify-full`, against `sslrootcert` or the system's CA bundle);
 * `{ rejectUnauthorized: false }` encrypts without verifying (`sslmode=require`); `false`
 * never uses TLS.  Certificates given as PEM text are refused: name files with
 * `sslrootcert`, `sslcert` and `sslkey` in the connection string. */
export type SslOption = boolean | { readonly rejectUnauthorized?: boolean };

/** Where to connect, as node-postgres's options name it.  Each key given overrides the same
 * part of `connectionString`; what neither gives comes from libpq's defaults (PG*). */
export interface ConnectionOptions {
  connectionString?: string;
  host?: string;
  port?: number | string;
  user?: string;
  password?: string;
  database?: string;
  ssl?: SslOption;
  application_name?: string;
}

/** Unknown keys are refused with a TypeError, never ignored. */
export interface DatabaseOptions extends ConnectionOptions {
  /** Most sessions open at once (default 10). */
  max?: number;
  /** Close a session idle this long (default 10000; 0 keeps it). */
  idleTimeoutMillis?: number;
  /** Runs of a statement text on a session before it is prepared there (psycopg's
   * prepare_threshold: 0 at the first run, null never; default 4, or the environment's
   * PGA_PREPARE_THRESHOLD). Never behind a pooler that hides the server (PgBouncer). */
  prepareThreshold?: number | null;
  /** Microseconds the event loop may poll, without sleeping, for a statement's answer before
   * it sleeps (default 150, or the environment's PGA_BUSY_POLL_US; 0 never; at most 1000000).
   * Trades client CPU for latency where a sleeping process is woken late (virtual machines);
   * any other I/O or a due timer ends the spin at once, and it turns itself off on a session
   * whose answers keep coming later than that (a remote server, long statements). */
  busyPollMicros?: number;
  /** int8 results as strings (default, like node-postgres), bigints or numbers. */
  types?: { readonly int8?: 'string' | 'bigint' | 'number' };
  /** Default nestMode of nested managed transactions (default 'savepoint'). */
  nestMode?: NestMode;
}

/** Values sent untyped, as node-postgres sends them (the column or a cast decides their
 * type), or typed by their JS type alone (boolean, bytes). */
export type ScalarParam =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Date
  | ArrayBufferView
  | ArrayBuffer;

/** A JSON value, sent as JSON.stringify's text (the column or a cast types it, as in pg):
 * a plain object, an interface-typed one, or one with toJSON.
 * Functions, Map, Set, Promise and symbols are refused here as at run time.  Two gaps:
 * other class instances without toJSON type-check but are refused at run time
 * (TypeError), and an interface-typed value with a `length` field must be spread into a
 * literal (`{ ...v }`), because that key is how arrays are told apart. */
export type JsonParam =
  | { readonly [key: string]: unknown }
  | (object & {
      length?: never; apply?: never; call?: never; bind?: never; size?: never; then?: never;
      description?: never;
    });

export type Param = ScalarParam | JsonParam | readonly Param[];

export interface FieldInfo {
  name: string;
  dataTypeID: number;
}

export interface QueryResult<R = Record<string, any>> {
  rows: R[];
  rowCount: number | null;
  command: string | null;
  fields: FieldInfo[];
}

export interface QueryOptions {
  /** undefined: the ambient transaction; null: none. */
  transaction?: Transaction | null;
  /** Aborting cancels the statement on the server (QueryCanceledError). */
  signal?: AbortSignal;
}

export interface StreamOptions {
  /** undefined: the ambient transaction; null: none. */
  transaction?: Transaction | null;
  /** Rows read from the server and decoded at a time (1 to 1048576; default 1000). */
  batchSize?: number;
}

/**
 * The rows of one statement, read a batch at a time as they are consumed
 * (`for await (const row of db.stream(sql, params))`).  Single use.
 * Leaving the loop early reads and drops the rest, so the session (and a
 * transaction around it) stays usable.
 */
export interface RowStream<R = Record<string, any>> extends AsyncIterableIterator<R> {
  /** Known once the first row (or the end) was read. */
  readonly fields: FieldInfo[] | undefined;
  /** Known once the last row was read. */
  readonly command: string | null | undefined;
  readonly rowCount: number | null | undefined;
  return(value?: unknown): Promise<IteratorResult<R>>;
}

export interface TransactionOptions {
  isolationLevel?: IsolationLevel;
  readOnly?: boolean;
  deferrable?: boolean;
  /** Parent: the new transaction is a savepoint of it. */
  transaction?: Transaction | null;
  nestMode?: NestMode;
  /**
   * Outermost transactions: statements are sent without waiting and travel
   * together at the next turn of the event loop, or with COMMIT if the
   * block ends first (one round trip when nothing is awaited before it).
   * Ignored on a nested block.  docs/pipeline.md.
   */
  pipeline?: boolean;
  /**
   * Managed, outermost transactions only: re-run the callback up to this
   * many times when the transaction fails with a serialization failure
   * (40001) or a deadlock (40P01), never after CommitOutcomeUnknownError.
   * The final error carries `attempts`.
   */
  retries?: number;
  /** Backoff of retries (full jitter): base and cap in ms (default 5, 250). */
  retryBaseMs?: number;
  retryCapMs?: number;
  /**
   * Aborting cancels the running statement and rolls the transaction back;
   * it rejects with QueryCanceledError (code 57014), whose `cause` is
   * `signal.reason` when no statement was running.
   */
  signal?: AbortSignal;
}

export type TransactionHook = (t: Transaction) => unknown | Promise<unknown>;

export declare class Transaction {
  static readonly ISOLATION_LEVELS: typeof ISOLATION_LEVELS;
  readonly id: number;
  readonly parent: Transaction | null;
  readonly finished: undefined | 'commit' | 'rollback' | 'unknown' | 'prepared';
  readonly options: Readonly<{ isolationLevel?: IsolationLevel; readOnly: boolean; deferrable: boolean }>;
  readonly rootTransaction: Transaction;
  /** Protocol round trips this transaction has cost so far. */
  readonly roundTrips: number;
  query<R = Record<string, any>>(sql: string, params?: readonly Param[] | null): Promise<QueryResult<R>>;
  /** db.stream() in this transaction. */
  stream<R = Record<string, any>>(sql: string, params?: readonly Param[] | null,
    options?: { batchSize?: number }): RowStream<R>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /**
   * Two-phase commit, root transactions only: PREPARE TRANSACTION under
   * `gid` (1 to 199 bytes).  Then finished with state 'prepared'; its
   * afterCommit hooks run after `db.commitPrepared(gid)` succeeds.
   */
  prepare(gid: string): Promise<void>;
  afterCommit(fn: TransactionHook): this;
  afterRollback(fn: TransactionHook): this;
  afterTransaction(fn: TransactionHook): this;
}

/** A NOTIFY received by a session that ran LISTEN (node-postgres's shape). */
export interface Notification {
  channel: string;
  /** '' when NOTIFY gave none. */
  payload: string;
  /** The notifying backend's process id. */
  processId: number;
}

export declare class Database {
  constructor(options?: DatabaseOptions);
  constructor(connectionString?: string | null, options?: DatabaseOptions);
  readonly closed: boolean;
  query<R = Record<string, any>>(sql: string, params?: readonly Param[] | null,
    options?: QueryOptions): Promise<QueryResult<R>>;
  /**
   * The statement's rows as an async iterator, read from the server a batch
   * at a time as the loop consumes them (bounded memory, back-pressure).
   * In the ambient (or given) transaction, else on a session of its own held
   * until the loop ends.  While it is open its transaction runs nothing else
   * (TransactionError); a transaction that ends first closes it.
   */
  stream<R = Record<string, any>>(sql: string, params?: readonly Param[] | null,
    options?: StreamOptions): RowStream<R>;
  transaction<T>(callback: (t: Transaction) => Promise<T> | T): Promise<T>;
  transaction<T>(options: TransactionOptions, callback: (t: Transaction) => Promise<T> | T): Promise<T>;
  transaction(options?: TransactionOptions): Promise<Transaction>;
  startUnmanagedTransaction(options?: TransactionOptions): Promise<Transaction>;
  currentTransaction(): Transaction | undefined;
  close(): Promise<void>;
  /** COMMIT PREPARED `gid`, from any session (this process's or another's). */
  commitPrepared(gid: string): Promise<void>;
  /** ROLLBACK PREPARED `gid`. */
  rollbackPrepared(gid: string): Promise<void>;
  /** The gids of this database's prepared transactions, oldest first. */
  listPrepared(): Promise<string[]>;
  poolStats(): { total: number; idle: number; waiting: number };
  /** Managed transactions given `retries`: attempts run, and retries made; notifications
   * dropped over the bound of a session nobody read (10,000 each). */
  stats(): { attempts: number; retries: number; notificationsDropped: number };
  /** Notifications received by any of this Database's sessions, in arrival order. */
  on(event: 'notification', listener: (n: Notification) => void): this;
  once(event: 'notification', listener: (n: Notification) => void): this;
  off(event: 'notification', listener: (n: Notification) => void): this;
  removeListener(event: 'notification', listener: (n: Notification) => void): this;
}

export declare function connect(options?: DatabaseOptions): Database;
export declare function connect(connectionString?: string | null, options?: DatabaseOptions): Database;

export declare class DatabaseError extends Error {
  /** SQLSTATE */
  code?: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  table?: string;
  column?: string;
  schema?: string;
  severity?: string;
  position?: string;
  sql?: string;
  cause?: unknown;
  readonly parent: DatabaseError;
  readonly original: DatabaseError;
  constructor(message: string, fields?: Record<string, unknown>);
}
export declare class UniqueConstraintError extends DatabaseError {
  fields: Record<string, string>;
}
export declare class ForeignKeyConstraintError extends DatabaseError {}
export declare class ExclusionConstraintError extends DatabaseError {}
export declare class NotNullConstraintError extends DatabaseError {}
export declare class CheckConstraintError extends DatabaseError {}
export declare class SerializationError extends DatabaseError {}
export declare class DeadlockError extends DatabaseError {}
export declare class QueryCanceledError extends DatabaseError {}
/** SQLSTATE 0A000: COPY, and what else the engine or the server does not support. */
export declare class NotSupportedError extends DatabaseError {}
export declare class ConnectionError extends Error {
  /** The server's SQLSTATE when it refused the session (3D000, 28P01, 53300, ...). */
  code?: string;
  cause?: unknown;
}
export declare class CommitOutcomeUnknownError extends ConnectionError {}
export declare class TransactionError extends Error {
  sql?: string;
  cause?: unknown;
}

export declare const errors: {
  DatabaseError: typeof DatabaseError;
  UniqueConstraintError: typeof UniqueConstraintError;
  ForeignKeyConstraintError: typeof ForeignKeyConstraintError;
  ExclusionConstraintError: typeof ExclusionConstraintError;
  NotNullConstraintError: typeof NotNullConstraintError;
  CheckConstraintError: typeof CheckConstraintError;
  SerializationError: typeof SerializationError;
  DeadlockError: typeof DeadlockError;
  QueryCanceledError: typeof QueryCanceledError;
  NotSupportedError: typeof NotSupportedError;
  ConnectionError: typeof ConnectionError;
  CommitOutcomeUnknownError: typeof CommitOutcomeUnknownError;
  TransactionError: typeof TransactionError;
};
