/*
 * pgatomic.h -- the public interface of libpgatomic, and its manual.
 *
 * libpgatomic is a transaction engine over libpq: atomic blocks that nest
 * (the outermost is a transaction, inner ones are savepoints), commit hooks
 * scoped to savepoints, errors classified by SQLSTATE, and a round-trip plan
 * that sends BEGIN, SAVEPOINT and RELEASE together with user statements
 * instead of on their own.
 *
 * Defaults that hold unless an entry says otherwise:
 *   - Objects are opaque handles used as objects: pga_conn, pga_result,
 *     pga_params.  Each has a CONSTRUCTOR and a DESTRUCTOR; destructors
 *     accept NULL.
 *   - A pga_conn is used by one thread at a time; distinct connections are
 *     independent.  The library has no mutable global state.
 *   - Inputs (SQL text, parameter values, connection strings) are copied or
 *     sent before the call returns.
 *   - Strings returned by the library are borrowed: valid until the next call
 *     on the same object.
 *   - Calls return int: PGA_OK (0) on success, a negative PGA_E* code on
 *     failure, and, from step functions only, a positive PGA_WANT_* mask.
 *     After a failure pga_conn_errmsg() and friends describe it until the
 *     next call on that connection.
 *   - BLOCKS: never  -- returns without waiting on the network (but a
 *     statement started right after pga_conn_cancel() may wait for the
 *     server to read the request: see there).
 *     BLOCKS: network -- waits; the entry names its non-blocking twin.
 *
 * Sentences starting with ^ are promises the tests in tests/c check.
 */
#ifndef PGATOMIC_H
#define PGATOMIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PGA_EXTERN __attribute__((visibility("default")))
#else
#define PGA_EXTERN
#endif

/* ---------------------------------------------------------------------------
 * Objects
 *
 *   pga_conn    one PostgreSQL session plus its stack of atomic blocks,
 *               pending control statements and commit hooks.
 *   pga_result  the rows, command tag and row count of one statement.
 *   pga_params  the encoded parameters of one statement ($1 ... $n).
 * ------------------------------------------------------------------------- */
typedef struct pga_conn pga_conn;
typedef struct pga_result pga_result;
typedef struct pga_params pga_params;

/* ---------------------------------------------------------------------------
 * Result codes
 *
 * One list generates the enum, pga_err_name() and pga_strerror().  The
 * bindings word these conditions in their own language (Django's and
 * Sequelize's messages differ); the texts here are for C programs.
 * ------------------------------------------------------------------------- */
#define PGA_ERRNO_MAP(XX)                                                      \
    XX(ESERVER, -1, "server reported an error; see the SQLSTATE")              \
    XX(ECONN, -2, "connection lost or not open")                               \
    XX(ECOMMITUNKNOWN, -3, "connection lost during COMMIT; outcome unknown")   \
    XX(EBROKEN, -4, "block is marked for rollback")                            \
    XX(EMISUSE, -5, "call not allowed in this state")                          \
    XX(ENOMEM, -6, "out of memory")                                            \
    XX(EDURABLE, -7, "a durable block cannot be nested")                       \
    XX(EINATOMIC, -8, "forbidden while an atomic block is active")             \
    XX(ENOATOMIC, -9, "needs an active atomic block")                          \
    XX(EOPTIONS, -10, "transaction options are only allowed on the outermost block") \
    XX(ETXNENDED, -11, "COMMIT or ROLLBACK was sent as SQL inside an atomic block") \
    XX(EMANUAL, -12, "not allowed in manual transaction management")           \
    XX(EPARAMCOUNT, -13, "wrong number of parameters for the statement")       \
    XX(EPARAM, -14, "a parameter value cannot be encoded")                     \
    XX(ECLOSED, -15, "connection is closed")                                   \
    XX(EBUSY, -16, "another operation is in progress on this connection")      \
    XX(EROLLEDBACK, -17, "COMMIT was answered with ROLLBACK")                  \
    XX(EINTRANS, -18, "a transaction is open; commit or roll back first")      \
    XX(ESAVEPOINT, -19, "no such savepoint")                                   \
    XX(EDECODE, -20, "a result value cannot be decoded")                       \
    XX(ENOTSUPPORTED, -21, "the statement needs a protocol feature pgatomic does not offer (COPY)")

enum pga_errno {
    PGA_OK = 0,
#define PGA__ERRNO_ENUM(name, code, text) PGA_##name = (code),
    PGA_ERRNO_MAP(PGA__ERRNO_ENUM)
#undef PGA__ERRNO_ENUM
    /* One past the last code, derived so a new code cannot be missed:
     * codes run -1, -2, ... without gaps (tests/c/test_error.c checks). */
#define PGA__ERRNO_ONE(name, code, text) -1
    PGA__ERRNO_LAST = -1 PGA_ERRNO_MAP(PGA__ERRNO_ONE)
#undef PGA__ERRNO_ONE
};

/* Progress from step functions: what to wait for before stepping again. */
#define PGA_WANT_READ 1
#define PGA_WANT_WRITE 2
/* Readiness passed into step functions. */
#define PGA_READY_READ 1
#define PGA_READY_WRITE 2

/* The name of a code ("ECONN"), or "UNKNOWN".  ^Every code in
 * PGA_ERRNO_MAP has a distinct name.  BLOCKS: never */
PGA_EXTERN const char *pga_err_name(int code);
/* A one-line English description of a code.  BLOCKS: never */
PGA_EXTERN const char *pga_strerror(int code);

/* ---------------------------------------------------------------------------
 * SQLSTATEs: one table and one classification, decided here, for every
 * language.
 *
 * The table holds every error SQLSTATE PostgreSQL defines (its
 * errcodes.txt up to PostgreSQL 18: the 254 codes psycopg 3 names), each
 * with PostgreSQL's condition name ("lock_not_available").  A code's kind:
 *   1. a leaf kind for the few codes both bindings single out
 *      (UNIQUE_VIOLATION, ..., QUERY_CANCELED);
 *   2. else the base kind of its class: the first two characters, then the
 *      first one, as psycopg files them (08 OPERATIONAL, 0A NOT_SUPPORTED,
 *      22 DATA, 23 INTEGRITY, 42 PROGRAMMING, 55 OPERATIONAL, P PROGRAMMING,
 *      X INTERNAL, ...);
 *   3. else DATABASE.
 * Names are language-neutral: kinds are lower-case words ("integrity",
 * "unique_violation"), conditions are PostgreSQL's.  Each binding spells
 * them once: Python names a class after the condition (LockNotAvailable)
 * and derives it from the base kind's PEP 249 class (OperationalError), as
 * psycopg's errors module does; Node maps kinds to Sequelize's classes.
 * ------------------------------------------------------------------------- */
#define PGA_KIND_MAP(XX)                                                       \
    XX(DATABASE, "database")                                                   \
    XX(DATA, "data")                                                           \
    XX(OPERATIONAL, "operational")                                             \
    XX(INTEGRITY, "integrity")                                                 \
    XX(INTERNAL, "internal")                                                   \
    XX(PROGRAMMING, "programming")                                             \
    XX(NOT_SUPPORTED, "not_supported")                                         \
    XX(UNIQUE_VIOLATION, "unique_violation")                                   \
    XX(FOREIGN_KEY_VIOLATION, "foreign_key_violation")                         \
    XX(NOT_NULL_VIOLATION, "not_null_violation")                               \
    XX(CHECK_VIOLATION, "check_violation")                                     \
    XX(EXCLUSION_VIOLATION, "exclusion_violation")                             \
    XX(SERIALIZATION_FAILURE, "serialization_failure")                         \
    XX(DEADLOCK_DETECTED, "deadlock_detected")                                 \
    XX(QUERY_CANCELED, "query_canceled")

enum pga_kind {
#define PGA__KIND_ENUM(name, text) PGA_KIND_##name,
    PGA_KIND_MAP(PGA__KIND_ENUM)
#undef PGA__KIND_ENUM
    PGA_KIND__COUNT
};

/* Classify a five-character SQLSTATE as above (NULL or malformed:
 * PGA_KIND_DATABASE).  ^lock_not_available (55P03) is OPERATIONAL,
 * ^feature_not_supported (0A000) NOT_SUPPORTED.  BLOCKS: never */
PGA_EXTERN int pga_sqlstate_kind(const char *sqlstate);
/* The kind's name ("unique_violation"); an unknown kind names DATABASE.
 * ^Every kind has a distinct name.  BLOCKS: never */
PGA_EXTERN const char *pga_kind_name(int kind);
/* ^The kind a leaf kind refines: UNIQUE_VIOLATION -> INTEGRITY,
 * SERIALIZATION_FAILURE -> OPERATIONAL, ...; a base kind returns itself.
 * BLOCKS: never */
PGA_EXTERN int pga_kind_base(int kind);

/* PostgreSQL's condition name of a SQLSTATE in the table
 * ("lock_not_available"), or NULL for a code not in it (a class's kind
 * still applies).  ^Several codes may share a name (PostgreSQL reuses
 * modifying_sql_data_not_permitted, ...); a binding that makes names
 * unique does so in its own spelling.  BLOCKS: never */
PGA_EXTERN const char *pga_sqlstate_condition(const char *sqlstate);
/* Entry index of the table (0, 1, ... in ascending code order): its
 * SQLSTATE, with *condition (if not NULL) set; NULL past the end.  For a
 * binding that builds its classes up front.  ^The codes are distinct and
 * ascending.  BLOCKS: never */
PGA_EXTERN const char *pga_sqlstate_at(int index, const char **condition);

/* ---------------------------------------------------------------------------
 * Retries
 *
 * Re-running a whole transaction is the binding's job (it owns the user's
 * code); whether and when is decided here, once for every language.
 * ------------------------------------------------------------------------- */

/* ^1 when a failed outermost block may be re-run: its code is PGA_ESERVER
 * or PGA_EBROKEN and the SQLSTATE is 40001 (serialization failure) or 40P01
 * (deadlock detected); ^0 for everything else, and always 0 for
 * PGA_ECOMMITUNKNOWN, since the first attempt may have committed.
 * BLOCKS: never */
PGA_EXTERN int pga_retryable(int code, const char *sqlstate);

/* ^The pause before retry number attempt (1 for the first retry): a
 * uniformly random value (from random, any 32 bits the caller drew) in
 * [0, min(cap_ms, base_ms * 2^(attempt-1))] ("full jitter").  BLOCKS: never */
PGA_EXTERN int pga_retry_delay_ms(int attempt, int base_ms, int cap_ms, uint32_t random);

/* ---------------------------------------------------------------------------
 * Connections
 *
 * Life cycle:
 *   1. pga_conn_new() makes an unconnected handle.
 *   2. pga_conn_connect() (blocking) or pga_conn_connect_start() followed by
 *      pga_conn_step() opens the session.
 *   3. Statements and atomic blocks run on it.
 *   4. pga_conn_close() ends the session but keeps the handle (and its
 *      block stack, so a caller inside a block can still leave it); the
 *      handle can connect again once no block is active.
 *   5. pga_conn_free() releases everything.
 * ------------------------------------------------------------------------- */

/* Make an unconnected handle.  CONSTRUCTOR: pga_conn.  BLOCKS: never
 * Returns PGA_OK and sets *out, or PGA_ENOMEM. */
PGA_EXTERN int pga_conn_new(pga_conn **out);

/* Close the session if open and free the handle.  Commit hooks still held
 * are destroyed with their destructor.  DESTRUCTOR: pga_conn.
 * BLOCKS: never (an open transaction is abandoned; the server rolls it
 * back), except right after pga_conn_cancel(): ^a cancel request written
 * less than 500 ms ago is kept until the server or pooler closes it, or
 * those 500 ms pass (PgBouncer 1.18 exits when a cancel's client leaves
 * before the request was passed on). */
PGA_EXTERN void pga_conn_free(pga_conn *conn);

/* Start opening a session.  conninfo is a libpq connection string or URI;
 * NULL reuses the one of the previous connect (or libpq's defaults, PG*
 * environment variables, when there was none).  Drive with pga_conn_step().
 *   - ^Nothing beyond the user's own settings reaches the startup packet
 *     (no options parameter: PgBouncer refuses it), so a connection pooler
 *     accepts it as it accepts psql; ^the user's own options travel as
 *     given, and if the server or pooler refuses them the connect fails
 *     with its message.  Results are read in whatever DateStyle and
 *     IntervalStyle the session has (see Results).
 *   - connect_timeout (or PGCONNECT_TIMEOUT) is a deadline for each host
 *     tried, kept by the core for the blocking and the non-blocking
 *     connect alike (pga_conn_timeout_ms()): ^a server that accepts the
 *     TCP connection and never answers fails the connect after it.
 *   - ^A host list ("host=a,b port=5432,5433", with
 *     target_session_attrs as libpq reads it) is tried in order, one host
 *     at a time, each with its own deadline; the message names why each
 *     failed.
 *   - TCP keepalives are on (libpq's default) with timings of their own
 *     unless the string sets any keepalives option: the first probe after
 *     60 s of silence, then every 10 s, 3 probes, so a vanished peer ends
 *     a wait after about 90 s.
 * METHOD: pga_conn  BLOCKS: never (but libpq resolves host names
 * synchronously: pass hostaddr to avoid that)
 * Returns PGA_OK, PGA_EINATOMIC if a block is active, PGA_EBUSY, PGA_ENOMEM
 * or PGA_ECONN (libpq refused the connection string). */
PGA_EXTERN int pga_conn_connect_start(pga_conn *conn, const char *conninfo);

/* Open a session.  METHOD: pga_conn
 * BLOCKS: network; non-blocking twin: pga_conn_connect_start().
 * Returns PGA_OK or PGA_ECONN (pga_conn_errmsg() says why; ^it never shows
 * the password).  ^When the server refused the session (no such database,
 * a wrong password, too many clients), pga_conn_sqlstate() gives its
 * SQLSTATE (3D000, 28P01, 53300, ...) and pga_conn_error_kind() its kind. */
PGA_EXTERN int pga_conn_connect(pga_conn *conn, const char *conninfo);

/* Processes: ^a connection inherited across fork() is never used by the
 * child.  In the child the session reads as lost (statements fail with
 * PGA_ECONN, pga_conn_probe() says 0), and pga_conn_close(),
 * pga_conn_free() and a new connect close the child's copy of the socket
 * without sending anything, so the parent's session and its transaction
 * go on.  A child reconnects to get a session of its own. */

/* End the session.  Inside atomic blocks the blocks stay on the stack:
 * ^leaving them sends nothing and reports success, ^statements inside them
 * fail with PGA_ECLOSED.  Hooks of the abandoned transaction are reported
 * as dropped by pga_hook_next().  METHOD: pga_conn  BLOCKS: never */
PGA_EXTERN void pga_conn_close(pga_conn *conn);

/* 1 when a session is open and libpq believes it healthy.  BLOCKS: never */
PGA_EXTERN int pga_conn_is_open(const pga_conn *conn);

/* Read, without waiting, whatever the server sent while nothing was in
 * flight, and say whether the session is still open (1) or not (0).  ^A
 * session the server closed while idle (restart, termination, idle
 * timeout) reads as closed before any statement is sent, so a caller can
 * reconnect instead of failing its next statement.  METHOD: pga_conn
 * BLOCKS: never */
PGA_EXTERN int pga_conn_probe(pga_conn *conn);

/* The socket to watch, or -1.  It may change while connecting: re-read it
 * after every step.  BLOCKS: never */
PGA_EXTERN int pga_conn_socket(const pga_conn *conn);

/* Advance the operation in progress (connect, statement, block exit,
 * savepoint call).  ready is a PGA_READY_* mask; 0 is allowed (spurious
 * readiness is tolerated).  METHOD: pga_conn  BLOCKS: never
 * Returns > 0, a PGA_WANT_* mask: wait for that and step again;
 * PGA_OK: the operation finished; < 0: it failed (the code of the
 * operation's blocking twin).  With no operation in progress returns PGA_OK. */
PGA_EXTERN int pga_conn_step(pga_conn *conn, int ready);

/* The blocking driver: step, wait on the socket with poll(), repeat.
 * ^Waits at most interval_ms in all (-1: no limit), whatever the
 * operation's deadlines ask meanwhile, and then returns the last
 * PGA_WANT_* mask, so a caller can check for signals and call again.
 * METHOD: pga_conn  BLOCKS: network */
PGA_EXTERN int pga_conn_wait(pga_conn *conn, int interval_ms);

/* How long a driver may wait before stepping again even if the socket
 * shows nothing: the time left, in milliseconds, until the operation's
 * next deadline (connect_timeout of the host being tried, the statement
 * timeout, the grace a cancel request gets), 0 when it has passed, -1
 * when there is none.  ^Stepping after it passed acts on the deadline, so
 * a driver needs no clock of its own.  Re-read it after every step.
 * BLOCKS: never */
PGA_EXTERN int pga_conn_timeout_ms(const pga_conn *conn);

/* A client deadline for every round trip from now on, in milliseconds (0,
 * the default: none).  ^When a batch has not finished ms after it was
 * sent, the engine sends a cancel request (pga_conn_cancel()); the
 * statement then fails with the server's 57014 (PGA_KIND_QUERY_CANCELED).
 * ^If the server does not answer that either within 500 ms more (a hung
 * host, a partition), the engine closes the session: the step fails with
 * PGA_ECONN, or ^PGA_ECOMMITUNKNOWN when COMMIT was in flight, and a
 * block in progress is broken like on any lost connection.  ^An answer
 * already in the socket when a late step comes is still read.  The worst
 * case is ms + 500 ms.  METHOD: pga_conn  BLOCKS: never
 * Returns PGA_OK or PGA_EMISUSE (negative). */
PGA_EXTERN int pga_conn_set_timeout(pga_conn *conn, int ms);
PGA_EXTERN int pga_conn_get_timeout(const pga_conn *conn);

/* ---- Busy polling ----
 * On a virtual machine a thread that sleeps in poll() or epoll_wait() is
 * often woken well after the answer arrived (measured here: about 100 us
 * from send to answer, and a sleeping client loses a third of its
 * transactions per second to the wake-up).  So a driver first polls the
 * socket without sleeping (poll with a zero timeout, in a loop) for up to
 * a budget of microseconds after a round trip was sent, and sleeps only
 * when the answer is later than that.  It trades client CPU for latency:
 * at most the budget per round trip, on one core, while the answer is
 * awaited; ^pga_conn_wait() (the blocking calls, Python) and the Node
 * addon (which spins on its whole event loop, so other sockets and timers
 * never wait behind it) drive this way.
 * ^The default budget is PGA_BUSY_POLL_DEFAULT_US, or the environment
 * variable PGA_BUSY_POLL_US read by pga_conn_new() (capped at
 * PGA_BUSY_POLL_MAX_US); ^0 turns it off: every wait sleeps at once.
 * It turns itself off where it cannot help: the core times every round
 * trip from the moment its last byte left to the moment the first of its
 * answer was read, and keeps the mean time of the spun ones and of the
 * slept ones (each time counted at most as the budget).
 *   - ^An answer later than the budget is a miss; ^after
 *     PGA_BUSY_POLL_MISSES misses in a row pga_conn_busy_poll_left() says
 *     0 (sleep); ^any answer within the budget (a slept one too) ends the
 *     run.  So a remote server, a pooler's extra hop or long statements
 *     cost a few budgets of CPU, then next to nothing.
 *   - ^While slept round trips are answered as fast as spun ones, or
 *     faster, it sleeps too: waking up costs nothing then (a busy machine
 *     whose cores never idle), and a spin would only take the CPU the
 *     server needs to answer.
 *   - ^The PGA_BUSY_POLL_PROBE-th round trip after the choice last
 *     changed does the other thing (a spin while sleeping, a sleep while
 *     spinning) to keep both means current, then the 32nd, 64th and
 *     128th, then every PGA_BUSY_POLL_PROBE_MAX-th.
 * The state is the connection's own; changing the budget keeps it.
 * METHOD: pga_conn  BLOCKS: never
 * pga_conn_set_busy_poll: PGA_OK, or PGA_EMISUSE for us < 0 or us >
 * PGA_BUSY_POLL_MAX_US. */
#define PGA_BUSY_POLL_DEFAULT_US 150
#define PGA_BUSY_POLL_MAX_US 1000000
#define PGA_BUSY_POLL_MISSES 3
#define PGA_BUSY_POLL_PROBE 16
#define PGA_BUSY_POLL_PROBE_MAX 256
PGA_EXTERN int pga_conn_set_busy_poll(pga_conn *conn, int us);
PGA_EXTERN int pga_conn_get_busy_poll(const pga_conn *conn);

/* For drivers: how many microseconds more to poll without sleeping for the
 * answer of the round trip in flight, counted from when it was sent; 0:
 * sleep now.  ^0 when the spin is off (budget 0, or the answers so far
 * say sleep and this round trip is no probe), ^when no round trip awaits an answer (connecting,
 * still writing, idle, the answer's first part already read), and once
 * the budget is spent.  Ask again after every poll; step as soon as the
 * socket is readable.  METHOD: pga_conn  BLOCKS: never */
PGA_EXTERN int pga_conn_busy_poll_left(const pga_conn *conn);

/* ---- Prepared statements ----
 * A statement text sent n times on a session (with the same parameter
 * types; the engine's own control statements, BEGIN, COMMIT and the
 * savepoint ones, keep their text on the wire and are never prepared) is
 * prepared there the n-th time, in the same round trip, and runs by name
 * from then on: the server skips parsing and planning it.  The default n
 * is 5 (psycopg's), or the environment variable PGA_PREPARE_THRESHOLD read
 * by pga_conn_new(); ^0 never prepares.
 * Nothing changes for the caller: results, errors and round trips are the
 * same.  The engine's names are "pga_", a hash of the text and types and
 * a generation, so a name can only ever stand for its own text.
 * ^A session tracks at most 100 texts, and prepares at most those: a text
 * not prepared makes room for a new one (least recently used first); a
 * prepared one stays until the texts are cleared.
 * ^A transaction that ends in rollback (the engine's ROLLBACK, a COMMIT the
 * server fails or answers with ROLLBACK, a ROLLBACK given as SQL) clears
 * them, as psycopg does: every text counts again from 0, and DEALLOCATE
 * ALL rides behind the engine's ROLLBACK in the same round trip (when no
 * ROLLBACK of the engine's is sent, it leads the next statement's round
 * trip).  ^It is sent only when the session prepared something since the
 * last one; it drops the caller's own PREPAREd statements too.  ^A DROP or
 * ALTER run on the session, or a text refused by name with 0A000 "cached
 * plan must not change result type" (its table changed), clears them the
 * same way.  This is what keeps a prepared text from meeting a table that
 * another session made again with other column types (0A000 inside a
 * transaction).  ^When the server lost them (a new session, a user
 * statement DISCARD ALL or DEALLOCATE ALL) the session just counts again;
 * ^a 26000 the statement raises itself changes nothing.
 * Poolers in transaction mode (PgBouncer 1.18) give the next transaction
 * another server session, without the statements: ^the first text due
 * goes unnamed once more with SELECT pg_backend_pid() riding behind it (no
 * round trip of its own), and the session prepares only if that equals
 * PQbackendPID() (a pooler's made-up key does not).
 * ^If the server still answers 26000 to one of our names, or 42P05 to our
 * Parse (something out of the engine's sight dropped or made statements:
 * a pooler passing one server's real key, DEALLOCATE inside a function),
 * the connection never prepares again, and the statement, of which
 * nothing ran, is sent again unnamed when it was outside any transaction
 * block and its batch's last; otherwise it fails with that error, once.
 * ^A statement refused with 0A000 "cached plan must not change result
 * type" follows the same resend rule (and clears the texts).  Set the
 * threshold to 0 (or PGA_PREPARE_THRESHOLD=0) to be certain behind such a
 * pooler (docs/core.md "Prepared statements").
 * METHOD: pga_conn  BLOCKS: never
 * pga_conn_set_prepare_threshold: PGA_OK, or PGA_EMISUSE for n < 0. */
PGA_EXTERN int pga_conn_set_prepare_threshold(pga_conn *conn, int n);
PGA_EXTERN int pga_conn_get_prepare_threshold(const pga_conn *conn);
/* How many statements the session has prepared (tests, monitoring). */
PGA_EXTERN int pga_conn_prepared_count(const pga_conn *conn);

/* Ask the server to cancel the statement in progress.
 * METHOD: pga_conn  BLOCKS: ^never: it opens a non-blocking socket of its
 * own to the server and writes the 16-byte cancel request when the socket
 * connects at once (a Unix socket, loopback TCP); otherwise the
 * connection's next steps finish it (drivers step at least every 10 ms
 * meanwhile, through pga_conn_timeout_ms()).  It never waits for the
 * server's answer, so a hung server cannot hold it.  The socket is kept
 * until the server closes it or 2 s pass, and ^while one request is in
 * flight another cancel sends nothing (so a caller cancelling in a loop
 * cannot flood the server).  (With a libpq other than 10 to 16 the
 * request's key is out of reach and libpq's blocking PQcancel() is used.)
 * The server cancels whatever runs when the request arrives, so ^a
 * statement started on the session while the request is unread (sent
 * while idle, or as the statement it was for ended) waits until the
 * server has read it, at most 500 ms after it was written, and is never
 * cancelled by it; a request still connecting is dropped instead.
 * THREADS: ^may be called from any thread while another thread waits on
 * this connection; it reads only data fixed at connect time.
 * Returns PGA_OK (the request is sent or on its way; the statement then
 * fails with PGA_KIND_QUERY_CANCELED, unless it had already finished) or
 * PGA_ECONN. */
PGA_EXTERN int pga_conn_cancel(pga_conn *conn);

/* The server's transaction status as libpq reports it: 'I' idle, 'T' in a
 * transaction, 'E' in a failed transaction, 'A' busy, 'U' unknown or no
 * session.  BLOCKS: never */
PGA_EXTERN char pga_conn_txn_status(const pga_conn *conn);

/* The transaction as the engine holds it, in the same letters: ^'T' while
 * one is open (a block, a manual transaction, or BEGIN given as SQL) even
 * if its BEGIN still rides with the next statement; ^'E' when it failed and
 * only a rollback can go on; otherwise what pga_conn_txn_status() says.
 * What a driver reports as the server's status when BEGIN was deferred
 * (pg's getTransactionStatus(), psycopg's transaction_status).
 * BLOCKS: never */
PGA_EXTERN char pga_conn_txn_state(const pga_conn *conn);

/* The libpq connection, for diagnostics only (server version, parameters).
 * Issuing statements on it bypasses the engine.  BLOCKS: never */
PGA_EXTERN void *pga_conn_pgconn(const pga_conn *conn);

/* Protocol round trips since the session opened: one per batch sent and
 * awaited.  BLOCKS: never */
PGA_EXTERN uint64_t pga_conn_round_trips(const pga_conn *conn);

/* ---------------------------------------------------------------------------
 * The last failure on a connection
 *
 * Valid until the next call on the connection.  After PGA_EBROKEN they
 * describe the error that broke the block (the cause), when there was one;
 * after PGA_EROLLEDBACK the error that aborted the transaction, when the
 * engine saw it.  pga_conn_error_facts() says which, for every code.
 * ------------------------------------------------------------------------- */

/* The message ("" when none).  ^Never contains the connection password. */
PGA_EXTERN const char *pga_conn_errmsg(const pga_conn *conn);
/* The SQLSTATE of a server error, or NULL. */
PGA_EXTERN const char *pga_conn_sqlstate(const pga_conn *conn);
/* The PGA_KIND_* of the last server error (PGA_KIND_DATABASE without one). */
PGA_EXTERN int pga_conn_error_kind(const pga_conn *conn);

enum pga_diag_field {
    PGA_DIAG_MESSAGE_PRIMARY,
    PGA_DIAG_DETAIL,
    PGA_DIAG_HINT,
    PGA_DIAG_SCHEMA_NAME,
    PGA_DIAG_TABLE_NAME,
    PGA_DIAG_COLUMN_NAME,
    PGA_DIAG_CONSTRAINT_NAME,
    PGA_DIAG_SEVERITY,
    PGA_DIAG_STATEMENT_POSITION,
    PGA_DIAG_INTERNAL_POSITION,   /* in a query the server generated itself */
    PGA_DIAG_INTERNAL_QUERY,
    PGA_DIAG_CONTEXT,             /* "PL/pgSQL function f() line 3 at RAISE" */
    PGA_DIAG_DATATYPE_NAME,
    PGA_DIAG_SOURCE_FILE,         /* where in the server's source it was raised */
    PGA_DIAG_SOURCE_LINE,
    PGA_DIAG_SOURCE_FUNCTION,
    PGA_DIAG__COUNT
};
/* A field of the last server error, or NULL when absent. */
PGA_EXTERN const char *pga_conn_diag(const pga_conn *conn, int field);
/* 1 when the last PGA_EBROKEN has a cause (an error, not set_rollback). */
PGA_EXTERN int pga_conn_has_cause(const pga_conn *conn);

/* Which error this is: a number the connection gives each error it
 * reports, kept when the error is reported again (the cause of a later
 * PGA_EBROKEN, the reason of a PGA_EROLLEDBACK, a block's outcome, a batch
 * outcome), so a binding can hand back the very object it raised then.
 * 0 when there is no error.  BLOCKS: never */
PGA_EXTERN uint64_t pga_conn_error_seq(const pga_conn *conn);

#define PGA_FACTS_NONE 0    /* a condition of the client: no server facts */
#define PGA_FACTS_OWN 1     /* the server's error, reported by this failure */
#define PGA_FACTS_CAUSE 2   /* the error this failure is the result of */
/* What the error state holds after a call failed with rc: the decision,
 * for every front end, of which failures carry the server's facts
 * (SQLSTATE, diag fields) as their own and which describe their cause.
 * ^PGA_FACTS_OWN after PGA_ESERVER, and after PGA_ECONN or
 * PGA_ECOMMITUNKNOWN when the server said why (57P01, a refused login);
 * ^PGA_FACTS_CAUSE after PGA_EBROKEN with a cause (a server error, or a
 * lost session's error without a SQLSTATE) and after PGA_EROLLEDBACK when
 * the engine saw the error that aborted the transaction; ^PGA_FACTS_NONE
 * otherwise, and when rc is not the last failure.  BLOCKS: never */
PGA_EXTERN int pga_conn_error_facts(const pga_conn *conn, int rc);

/* ---------------------------------------------------------------------------
 * Parameters
 *
 * The core encodes values for the extended protocol; bindings only say what
 * a value is.  Every add call copies its input.  Text parameters travel
 * with type "unknown" so the server infers it from context (a string can
 * fill a date column); the others carry their type.
 * ------------------------------------------------------------------------- */

/* CONSTRUCTOR: pga_params.  Returns PGA_OK or PGA_ENOMEM. */
PGA_EXTERN int pga_params_new(pga_params **out);
/* DESTRUCTOR: pga_params. */
PGA_EXTERN void pga_params_free(pga_params *params);
/* Forget all values, keep the memory. */
PGA_EXTERN void pga_params_clear(pga_params *params);
/* How many top-level values were added. */
PGA_EXTERN int pga_params_count(const pga_params *params);

/* The protocol's limit on a statement's parameters. */
#define PGA_PARAMS_MAX 65535

/* Each adds one value: a top-level parameter, or an element when an array
 * is open.  Return PGA_OK, PGA_ENOMEM, or PGA_EPARAM with the reason in
 * pga_params_errmsg():
 *   ^a parameter beyond PGA_PARAMS_MAX is refused here, before anything
 *   could be sent;
 *   ^text containing a NUL byte or invalid UTF-8 is refused;
 *   ^array elements must share one type (NULLs fit any; integers widen);
 *   ^a float that is NaN or infinite is sent as 'NaN' / 'Infinity'.
 * Integers are typed int2, int4 or int8 by value, so functions taking int4
 * accept small values. */
PGA_EXTERN int pga_params_add_null(pga_params *p);
PGA_EXTERN int pga_params_add_bool(pga_params *p, int value);
PGA_EXTERN int pga_params_add_int64(pga_params *p, int64_t value);
PGA_EXTERN int pga_params_add_float64(pga_params *p, double value);
/* Decimal digits ("-12.5", "1e3", "NaN"): sent as numeric.  An integer too
 * large for int64 goes here too. */
PGA_EXTERN int pga_params_add_numeric(pga_params *p, const char *text, size_t len);
PGA_EXTERN int pga_params_add_text(pga_params *p, const char *utf8, size_t len);
PGA_EXTERN int pga_params_add_bytea(pga_params *p, const void *data, size_t len);
/* Text that takes its type from where the parameter is used, as a quoted
 * literal does (node-postgres's model for numbers, strings and dates): the
 * server reads '5' as int4 in an int4 column and as numeric in a numeric
 * one, so a value's type never depends on its magnitude.  ^Sent untyped at
 * top level and inside arrays; ^an array whose elements are all untyped
 * (or NULL) is sent untyped, and one with typed elements takes their type.
 * The same checks as pga_params_add_text(). */
PGA_EXTERN int pga_params_add_untyped(pga_params *p, const char *utf8, size_t len);
/* JSON text, already serialized; sent as jsonb. */
PGA_EXTERN int pga_params_add_json(pga_params *p, const char *utf8, size_t len);
/* 16 raw bytes. */
PGA_EXTERN int pga_params_add_uuid(pga_params *p, const unsigned char bytes[16]);
PGA_EXTERN int pga_params_add_date(pga_params *p, int year, int month, int day);
PGA_EXTERN int pga_params_add_time(pga_params *p, int hour, int minute, int second,
                                   int microsecond);
/* A time with time zone: the time plus its offset east of UTC (a fixed
 * offset: a zone whose offset depends on the date has none without one). */
PGA_EXTERN int pga_params_add_timetz(pga_params *p, int hour, int minute, int second,
                                     int microsecond, int utc_offset_seconds);
/* PostgreSQL's 'infinity' (sign > 0) or '-infinity' (sign < 0) as a value of
 * kind PGA_T_DATE, PGA_T_TIMESTAMP or PGA_T_TIMESTAMPTZ; ^other kinds are
 * refused with PGA_EPARAM. */
PGA_EXTERN int pga_params_add_infinity(pga_params *p, int kind, int sign);
/* A timestamp without time zone. */
PGA_EXTERN int pga_params_add_timestamp(pga_params *p, int year, int month, int day,
                                        int hour, int minute, int second,
                                        int microsecond);
/* A timestamp with time zone: local fields plus the offset east of UTC. */
PGA_EXTERN int pga_params_add_timestamptz(pga_params *p, int year, int month, int day,
                                          int hour, int minute, int second,
                                          int microsecond, int utc_offset_seconds);
/* A client's wall-clock time with its offset east of UTC, sent untyped
 * and spelled as node-postgres spells a JS Date: ^a timestamptz column
 * stores the instant, ^a timestamp column the wall-clock fields and ^a
 * date column the day, whatever the server's TimeZone. */
PGA_EXTERN int pga_params_add_local_timestamp(pga_params *p, int year, int month, int day,
                                              int hour, int minute, int second,
                                              int microsecond, int utc_offset_seconds);
/* An interval of days, seconds and microseconds (any signs). */
PGA_EXTERN int pga_params_add_interval(pga_params *p, int64_t days, int64_t seconds,
                                       int64_t microseconds);
/* An interval with a months part, as PostgreSQL keeps it: months, days and
 * microseconds apart (any signs), so ^an interval decoded by
 * pga_value_decode() and sent back with its months, days less the folded
 * months, and time is the same interval ('1 mon' stays '1 mon', never
 * '30 days'). */
PGA_EXTERN int pga_params_add_interval_months(pga_params *p, int64_t months, int64_t days,
                                              int64_t microseconds);
/* Open an array; elements follow, nested arrays allowed.  ^An empty array
 * is sent untyped and takes its type from context. */
PGA_EXTERN int pga_params_array_begin(pga_params *p);
/* Close the innermost open array.  PGA_EPARAM if none is open. */
PGA_EXTERN int pga_params_array_end(pga_params *p);
/* Why the last add failed. */
PGA_EXTERN const char *pga_params_errmsg(const pga_params *p);

/* ^The number of $n placeholders a statement uses (the highest n), ignoring
 * those inside string literals, quoted identifiers, dollar-quoted strings
 * and comments.  BLOCKS: never */
PGA_EXTERN int pga_sql_count_params(const char *sql);

/* ---------------------------------------------------------------------------
 * Control statements written as SQL
 *
 * ORMs send BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO and COMMIT through the
 * driver's ordinary query call.  pga_sql_classify() recognises exactly
 * these, in PostgreSQL's grammar:
 *
 *   BEGIN [WORK | TRANSACTION] [modes]      START TRANSACTION [modes]
 *   SET TRANSACTION modes
 *   SAVEPOINT name     RELEASE [SAVEPOINT] name
 *   ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name
 *   COMMIT | END [WORK | TRANSACTION]       ROLLBACK | ABORT [WORK | TRANSACTION]
 *   PREPARE TRANSACTION 'gid'   COMMIT PREPARED 'gid'   ROLLBACK PREPARED 'gid'
 *
 * where modes are ISOLATION LEVEL {SERIALIZABLE | REPEATABLE READ |
 * READ COMMITTED | READ UNCOMMITTED}, READ ONLY, READ WRITE, DEFERRABLE and
 * NOT DEFERRABLE, separated by commas or blanks.  The engine's SQL control
 * mode (pga_conn_set_sql_controls()) uses it; a driver may too.
 * ------------------------------------------------------------------------- */

enum pga_control_kind {
    PGA_CTL_NONE,              /* anything else: send it as it is */
    PGA_CTL_BEGIN,             /* BEGIN ... or START TRANSACTION ... */
    PGA_CTL_SET_TRANSACTION,
    PGA_CTL_SAVEPOINT,
    PGA_CTL_RELEASE,
    PGA_CTL_ROLLBACK_TO,
    PGA_CTL_COMMIT,            /* COMMIT or END */
    PGA_CTL_ROLLBACK,          /* ROLLBACK or ABORT */
    PGA_CTL_PREPARE,           /* PREPARE TRANSACTION 'gid' */
    PGA_CTL_COMMIT_PREPARED,
    PGA_CTL_ROLLBACK_PREPARED
};

#define PGA_NAME_MAX 63   /* bytes in a savepoint name (the server truncates longer ones) */
#define PGA_GID_MAX 199   /* bytes in a prepared transaction's id (the server's limit) */

typedef struct pga_control {
    int kind;                     /* PGA_CTL_* */
    unsigned modes;               /* BEGIN, SET TRANSACTION: the PGA_ISO_*, PGA_READ_*,
                                     PGA_[NOT_]DEFERRABLE flags given; 0 for none */
    const char *tag;              /* the command tag the server answers with:
                                     "BEGIN", "START TRANSACTION", "SET", "SAVEPOINT",
                                     "RELEASE", "ROLLBACK", "COMMIT", "PREPARE TRANSACTION",
                                     "COMMIT PREPARED", "ROLLBACK PREPARED"; "" for none */
    char name[PGA_GID_MAX + 1];   /* SAVEPOINT, RELEASE, ROLLBACK TO: the name as the
                                     server knows it; the PREPARED ones: the gid; else "" */
} pga_control;

/* Recognise one control statement; fills *out and returns its kind.
 * ^Keywords are matched without regard to case; ^a bare name is folded to
 * lower case and a quoted one kept as written ("" stands for "), as the
 * server does; ^blanks and comments may surround and separate the words,
 * and ^one ';' may end the statement.  ^When several modes of one kind
 * are given, the last wins, as on the server.
 * ^Everything else is PGA_CTL_NONE, so it can go to the server untouched:
 * other statements, several statements in one string, a statement the
 * server would refuse (a reserved word as a bare name, an empty quoted
 * name, an unterminated literal or comment, invalid UTF-8), a name longer
 * than PGA_NAME_MAX bytes, a gid written other than as a plain '...'
 * literal without backslashes, AND [NO] CHAIN, and NULL.
 * BLOCKS: never */
PGA_EXTERN int pga_sql_classify(const char *sql, pga_control *out);

/* The SQL control mode, for driver front ends (pgatomic/pg, the DB-API):
 * with it on, pga_query_start() given one statement without parameters
 * classifies it, and a control statement becomes part of the round-trip
 * plan instead of a round trip of its own.  Off by default, so the
 * engine's own API keeps its rules.  In the mode:
 *   BEGIN, START TRANSACTION  ^nothing is sent; BEGIN (with its modes)
 *                rides with the next statement; ^inside a transaction the
 *                server would only warn, so nothing happens.
 *   SET TRANSACTION  ^right after a BEGIN that is still owed its modes join
 *                it (sent apart, the server would ignore them); ^once a
 *                statement or SAVEPOINT ran or is owed it is sent at once,
 *                in order, and the server answers (25001 for an isolation
 *                level); outside a transaction nothing happens.
 *   SAVEPOINT, RELEASE, ROLLBACK TO  deferred, as pga_savepoint() and its
 *                twins; ^a name the engine does not know is sent at once,
 *                so the server answers (3B001).
 *   COMMIT, ROLLBACK, PREPARE TRANSACTION  ^sent at once with what is
 *                owed; ^a transaction that sent nothing ends without a
 *                round trip; ^a COMMIT (or PREPARE) answered with ROLLBACK
 *                is PGA_EROLLEDBACK.  Inside an atomic block they are sent
 *                as they are (PGA_ETXNENDED).
 *   COMMIT PREPARED, ROLLBACK PREPARED  sent as they are.
 * A statement the engine answers completes at once (pga_conn_step()
 * returns PGA_OK) and ^its result holds the server's command tag, or the
 * call fails with the server's own SQLSTATE and message: ^25P01 outside a
 * transaction (SAVEPOINT, RELEASE, ROLLBACK TO), ^25P02 in a failed one.
 * The server's WARNINGs for the statements it would merely warn about are
 * not reproduced.  ^A BEGIN the classifier passed by (inside a script) is
 * noticed from the transaction status and adopted.
 * METHOD: pga_conn  BLOCKS: never.  Returns PGA_OK or PGA_EBUSY. */
PGA_EXTERN int pga_conn_set_sql_controls(pga_conn *conn, int on);
PGA_EXTERN int pga_conn_get_sql_controls(const pga_conn *conn);

/* ---------------------------------------------------------------------------
 * Python's placeholders: %s and %(name)s into $n
 *
 * PEP 249 tools write psycopg's placeholders; the server takes $n.  A
 * pga_placeholders rewrites the text once, and says which value each $n
 * stands for; the values still travel apart from the text (no value is
 * ever put into it).  Call it only when the caller passed parameters: as
 * with psycopg, a statement run without any is sent as written.
 *
 * The rules (psycopg's, where a lexer allows better):
 *   ^%s, %b and %t outside literals become $1, $2, ... in order;
 *   ^%(name)s becomes $k, the same k for every use of one name, numbered
 *    by first use; %(name)b and %(name)t likewise;
 *   ^%% becomes %, everywhere, literals and comments included (the format
 *    convention doubles every percent sign of the statement);
 *   ^nothing inside a string literal, quoted identifier, dollar-quoted
 *    string or comment is a placeholder, and a lone % there stays;
 *   ^a text that already uses $n is sent as written: % means nothing
 *    there (style PGA_PH_DOLLAR, count = the highest n);
 *   ^any other % outside literals, a %( without ), and mixing %s with
 *    %(name)s are refused with PGA_EPARAM;
 *   ^a $n that would run into a word or number is set apart by a blank.
 * ------------------------------------------------------------------------- */
typedef struct pga_placeholders pga_placeholders;

enum pga_placeholder_style {
    PGA_PH_NONE,           /* no placeholder at all */
    PGA_PH_DOLLAR,         /* $n, as written */
    PGA_PH_POSITIONAL,     /* %s: $i stands for the i-th value given */
    PGA_PH_NAMED           /* %(name)s: $i stands for pga_placeholders_name(i - 1) */
};

/* CONSTRUCTOR: pga_placeholders.  Reusable: each rewrite forgets the last.
 * Returns PGA_OK or PGA_ENOMEM.  BLOCKS: never */
PGA_EXTERN int pga_placeholders_new(pga_placeholders **out);
/* DESTRUCTOR: pga_placeholders. */
PGA_EXTERN void pga_placeholders_free(pga_placeholders *ph);
/* Rewrite sql.  Returns PGA_OK, PGA_EPARAM (pga_placeholders_errmsg()
 * says which placeholder and why; style NONE, count 0), PGA_EMISUSE (sql
 * is NULL) or PGA_ENOMEM.  BLOCKS: never */
PGA_EXTERN int pga_placeholders_rewrite(pga_placeholders *ph, const char *sql);
/* The text to send, borrowed until the next rewrite or free. */
PGA_EXTERN const char *pga_placeholders_sql(const pga_placeholders *ph);
/* A PGA_PH_* style. */
PGA_EXTERN int pga_placeholders_style(const pga_placeholders *ph);
/* How many values the text takes: the number of %s (positional), of
 * distinct names (named), the highest $n (dollar), or 0. */
PGA_EXTERN int pga_placeholders_count(const pga_placeholders *ph);
/* NAMED: the name $(i + 1) stands for (0-based i), NUL-terminated; *len
 * (if not NULL) receives its length.  NULL when i is out of range. */
PGA_EXTERN const char *pga_placeholders_name(const pga_placeholders *ph, int i, size_t *len);
/* Why the last rewrite failed ("" after success). */
PGA_EXTERN const char *pga_placeholders_errmsg(const pga_placeholders *ph);

/* ---------------------------------------------------------------------------
 * Statements
 * ------------------------------------------------------------------------- */

/* Queue a statement.  params may be NULL (no parameters); it is encoded
 * and may be freed or reused when the call returns.  Control statements
 * owed by the block stack (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO) are sent
 * in the same round trip, ahead of it.  A statement without parameters
 * uses the simple protocol, so it may hold several commands (a script):
 * they run in order and stop at the first that fails; each gives a result.
 * Drive with pga_conn_step(); then take the results.
 * METHOD: pga_conn  BLOCKS: never
 * Returns PGA_OK, or without sending anything:
 *   PGA_ECLOSED  no session;
 *   PGA_EBROKEN  ^the innermost block needs rollback: nothing reaches the
 *                server until the block that can undo it exits;
 *   PGA_EPARAMCOUNT ^the SQL uses a different number of placeholders
 *                (read as the server reads it: ^'...' with backslash
 *                escapes while standard_conforming_strings is off); ^never
 *                where the count is only a guess, a command that may use
 *                $n of its own (CREATE FUNCTION or PROCEDURE, whose SQL
 *                body may say RETURN $1 or BEGIN ATOMIC ... END, and
 *                PREPARE name AS ...): the server counts those;
 *   PGA_EBUSY, PGA_ENOMEM, PGA_EMISUSE (sql is NULL).
 * The step then ends with PGA_OK, or
 *   PGA_ESERVER  a statement failed (the user's, or a control statement
 *                sent with it: ^a failed BEGIN or SAVEPOINT is reported,
 *                never hidden); inside a block ^the block needs rollback;
 *   PGA_ECONN    the connection was lost; inside a block it needs rollback;
 *   PGA_ETXNENDED ^the statement ended the transaction (raw COMMIT or
 *                ROLLBACK); every open block now needs rollback and
 *                leaving them sends nothing. */
PGA_EXTERN int pga_query_start(pga_conn *conn, const char *sql, const pga_params *params);

/* Run a statement.  BLOCKS: network; twin: pga_query_start().
 * On PGA_OK *out (if not NULL) receives the (first) result, owned by the
 * caller; a script's later results follow from pga_conn_take_result().
 * ^In a pipelined transaction with out == NULL the statement is only
 * queued (PGA_OK; its error comes with the flight); with out it forces the
 * flight and returns its first failure. */
PGA_EXTERN int pga_query(pga_conn *conn, const char *sql, const pga_params *params,
                         pga_result **out);

/* Take the next result of the finished statement; the caller owns it.
 * ^A script of several commands gives one result per command, taken one
 * after another in the order the commands ran; a single statement gives
 * one.  ^NULL when none is left: all were taken, the statement failed
 * (^a script that failed part-way gives none, only its error), or the next
 * operation started.  NULL also when memory ran out wrapping one
 * (pga_conn_errmsg() then says so and the result stays to be taken).
 *   pga_result *res;
 *   while ((res = pga_conn_take_result(conn)) != NULL) { ...; pga_result_free(res); }
 * METHOD: pga_conn  BLOCKS: never */
PGA_EXTERN pga_result *pga_conn_take_result(pga_conn *conn);

/* ---------------------------------------------------------------------------
 * Streams: a statement's rows in batches
 *
 * pga_query_start() holds a whole result in memory.  A stream hands the
 * rows of one statement over in batches of at most max_rows rows (libpq's
 * single-row mode, the rows gathered into batches so the per-row cost stays
 * low), reading from the socket only as batches are asked for, so memory
 * is bounded by one batch whatever the result's size.  It is a statement
 * like any other: ^inside a block the BEGIN and SAVEPOINT owed still ride
 * with it in its first round trip; outside one it is its own implicit
 * transaction.
 *
 * Life cycle:
 *   1. pga_stream_start() sends the statement;
 *   2. pga_conn_step() until PGA_OK: a batch is ready; take it with
 *      pga_conn_take_result() (^0 to max_rows rows, the statement's
 *      columns);
 *   3. while pga_stream_more() says 1, pga_stream_next_start() and step
 *      again for the next batch.  ^Once it says 0 the batch taken was the
 *      last and its status and row count are the statement's ("SELECT
 *      1000000"); the earlier ones say "" and -1.  The last batch may hold
 *      no rows.
 *   4. To stop early, pga_stream_close_start() and step until it ends.
 * ^A failure ends the stream: the step returns it (pga_conn_errmsg(),
 * SQLSTATE, ... as for pga_query_start()) after the batches already
 * taken, and ^inside a block the block needs rollback, as for any failed
 * statement.
 * ^While a stream is open (rows may follow) the connection is its: every
 * other call that sends returns PGA_EBUSY, and pga_conn_probe() reads
 * nothing (the socket stays readable with rows: a driver that watches it
 * while idle stops watching until the stream ends).  pga_conn_close() and
 * pga_conn_free() end a stream with the session.
 * ^Stopping early drains: the rows left are read and dropped, never
 * cancelled, so the statement completes as it would have (an UPDATE ...
 * RETURNING keeps its effect, the block stays healthy) and the connection
 * is usable after; the price is reading the rest.  To stop sooner, call
 * pga_conn_cancel() first: the statement then fails with 57014 (inside a
 * block the block needs rollback).  The statement deadline
 * (pga_conn_set_timeout()) bounds each wait for a batch, not the time
 * between batches.
 * ------------------------------------------------------------------------- */

/* Send one statement whose rows come in batches of at most max_rows.
 * params as for pga_query_start().  METHOD: pga_conn  BLOCKS: never
 * Returns PGA_OK, or without sending anything the codes of
 * pga_query_start(), and PGA_EMISUSE (^max_rows < 1; ^a script of several
 * commands or a control statement (BEGIN, COMMIT, SAVEPOINT ...), which
 * run with pga_query_start(); ^inside a pipelined transaction
 * (PGA_PIPELINE), whose statements are read only when forced).  The step
 * ends with PGA_OK (a batch is ready) or the statement's failure. */
PGA_EXTERN int pga_stream_start(pga_conn *conn, const char *sql, const pga_params *params,
                                int max_rows);
/* Read the next batch of the open stream; drive with pga_conn_step(),
 * which ends with PGA_OK (a batch is ready) or the statement's failure.
 * METHOD: pga_conn  BLOCKS: never.  Returns PGA_OK, PGA_EMISUSE (^no
 * stream is open), PGA_EBUSY. */
PGA_EXTERN int pga_stream_next_start(pga_conn *conn);
/* ^1 while the stream has rows to come (its statement has not ended), else
 * 0.  BLOCKS: never */
PGA_EXTERN int pga_stream_more(const pga_conn *conn);
/* Stop the open stream: the rows left are read and dropped (see above).
 * A batch not taken yet is dropped.  With no stream open, nothing to do
 * (the step returns PGA_OK).  METHOD: pga_conn  BLOCKS: never.  Returns
 * PGA_OK or PGA_EBUSY; the step ends with PGA_OK, or the failure of the
 * statement (^an error in rows nobody read is still its error: inside a
 * block the block needs rollback). */
PGA_EXTERN int pga_stream_close_start(pga_conn *conn);
/* Blocking twins.  pga_stream() starts and reads the first batch;
 * pga_stream_next() the next one.  On PGA_OK *out receives the batch,
 * owned by the caller.
 *   pga_result *b;
 *   int rc = pga_stream(conn, "SELECT ...", NULL, 1000, &b);
 *   while (rc == PGA_OK) {
 *       ...; pga_result_free(b);
 *       if (!pga_stream_more(conn)) break;
 *       rc = pga_stream_next(conn, &b);
 *   }
 * BLOCKS: network */
PGA_EXTERN int pga_stream(pga_conn *conn, const char *sql, const pga_params *params,
                          int max_rows, pga_result **out);
PGA_EXTERN int pga_stream_next(pga_conn *conn, pga_result **out);
PGA_EXTERN int pga_stream_close(pga_conn *conn);

/* ---------------------------------------------------------------------------
 * Batches: several statements in one round trip
 *
 * Life cycle: pga_batch_begin(), pga_batch_add() for each statement,
 * pga_batch_send(), pga_conn_step() until it returns 0 or an error, then
 * pga_batch_outcome() for each statement in order.  Statements run in the
 * order added, each one's result awaited by nobody before the next is sent.
 * Inside a transaction they share one pipeline sync: ^after one fails, the
 * later ones do not run and report PGA_EBROKEN with the failure as cause.
 * Outside one (autocommit, no block) ^each statement is its own implicit
 * transaction, so one failing does not stop the others.
 * ------------------------------------------------------------------------- */

/* Open a batch and send what the block stack owes.  METHOD: pga_conn
 * BLOCKS: never.  Returns PGA_OK, PGA_EBUSY, PGA_EBROKEN, PGA_ECLOSED,
 * PGA_ECONN, PGA_ENOMEM. */
PGA_EXTERN int pga_batch_begin(pga_conn *conn);

/* Send one statement of the open batch.  BLOCKS: never
 * Returns PGA_OK, or without adding it: PGA_EPARAMCOUNT, PGA_EMISUSE (no
 * batch open, or ^a script of several commands, which must run alone with
 * pga_query_start()), PGA_ECONN, PGA_ENOMEM.  A statement refused here
 * has no outcome; the batch goes on. */
PGA_EXTERN int pga_batch_add(pga_conn *conn, const char *sql, const pga_params *params);

/* Close the batch and start waiting for its results; drive with
 * pga_conn_step().  The step ends with PGA_OK when every statement
 * succeeded, else with the first failure's code (outcomes say which).
 * BLOCKS: never */
PGA_EXTERN int pga_batch_send(pga_conn *conn);

/* How many statements the last batch (or single statement) holds. */
PGA_EXTERN int pga_batch_size(const pga_conn *conn);

/* The outcome of statement index (0-based) of the finished batch: PGA_OK
 * and *out (if not NULL) receives its result, owned by the caller; or its
 * failure code, with the connection's error state (errmsg, SQLSTATE,
 * diag) describing that statement's error.  BLOCKS: never */
PGA_EXTERN int pga_batch_outcome(pga_conn *conn, int index, pga_result **out);

/* ---------------------------------------------------------------------------
 * Atomic blocks
 *
 * The stack lives on the connection.  Depth 0 means no block is active.
 * Nothing is sent on entry: BEGIN travels with the block's first statement,
 * SAVEPOINT with the first statement of a nested block, RELEASE and
 * ROLLBACK TO with the next statement or with the final COMMIT.
 * ------------------------------------------------------------------------- */

/* Flags for pga_atomic_enter(). */
#define PGA_SAVEPOINT 0x0001       /* nested: make a savepoint (Django's default) */
#define PGA_DURABLE 0x0002         /* must be the outermost block */
#define PGA_ISO_READ_COMMITTED 0x0010
#define PGA_ISO_REPEATABLE_READ 0x0020
#define PGA_ISO_SERIALIZABLE 0x0030
#define PGA_ISO_READ_UNCOMMITTED 0x0040
#define PGA_ISO_MASK 0x0070
#define PGA_READ_ONLY 0x0100
#define PGA_READ_WRITE 0x0200
#define PGA_DEFERRABLE 0x0400
#define PGA_NOT_DEFERRABLE 0x0800
#define PGA_PIPELINE 0x1000        /* the transaction's statements are pipelined:
                                      see "Pipelined transactions" below */
#define PGA_TXN_OPTIONS (PGA_ISO_MASK | PGA_READ_ONLY | PGA_READ_WRITE | \
                         PGA_DEFERRABLE | PGA_NOT_DEFERRABLE)

/* Open an atomic block: the transaction at depth 0 (or a savepoint when a
 * manual transaction is open, or ^one a BEGIN sent as SQL outside any
 * block opened: a failing block then never rolls back the work done before
 * it, as in psycopg), a savepoint below it when PGA_SAVEPOINT is set, a
 * merged block otherwise.  ^Sends nothing.
 * METHOD: pga_conn  BLOCKS: never
 * Returns PGA_OK, PGA_EDURABLE (^durable inside a block, ^or inside a
 * transaction a BEGIN sent as SQL opened),
 * PGA_EOPTIONS (^transaction options on a nested block), PGA_ECLOSED,
 * PGA_EBUSY or PGA_ENOMEM; ^the stack is unchanged on error. */
PGA_EXTERN int pga_atomic_enter(pga_conn *conn, unsigned flags);

/* Start leaving the innermost block.  failed says the block's body raised.
 *   success, outermost:  COMMIT (with any pending RELEASE), if BEGIN was sent;
 *   success, savepoint:  RELEASE queued for the next round trip;
 *   failure or needs-rollback, outermost: ROLLBACK if BEGIN was sent;
 *   failure or needs-rollback, savepoint: ROLLBACK TO + RELEASE queued, and
 *       ^the enclosing block no longer needs rollback;
 *   failure, merged block (no savepoint): ^the enclosing block needs rollback.
 * The block is popped whatever happens.  Drive with pga_conn_step().
 * METHOD: pga_conn  BLOCKS: never
 * Returns PGA_OK, PGA_ENOATOMIC (no block), PGA_EBUSY.  The step ends with
 * PGA_OK, PGA_ESERVER (COMMIT failed: ^the transaction is rolled back),
 * PGA_EROLLEDBACK (^the server answered COMMIT with ROLLBACK), PGA_ECONN
 * (the connection died before COMMIT was sent: rolled back),
 * PGA_ECOMMITUNKNOWN (^lost while COMMIT was in flight).  A ROLLBACK that
 * fails on a dead connection is not an error: the server rolls back. */
PGA_EXTERN int pga_atomic_exit_start(pga_conn *conn, int failed);

/* Leave the innermost block.  BLOCKS: network; twin: pga_atomic_exit_start(). */
PGA_EXTERN int pga_atomic_exit(pga_conn *conn, int failed);

/* Number of active blocks (0 outside any block).  BLOCKS: never */
PGA_EXTERN int pga_atomic_depth(const pga_conn *conn);

/* The needs-rollback flag of the innermost block.  ^PGA_ENOATOMIC outside
 * a block.  Setting it to 1 makes the block roll back on exit and breaks it
 * (statements fail with PGA_EBROKEN, without a cause); 0 clears it.
 * BLOCKS: never */
PGA_EXTERN int pga_atomic_get_rollback(const pga_conn *conn);
PGA_EXTERN int pga_atomic_set_rollback(pga_conn *conn, int rollback);

/* How the last block left with pga_atomic_exit_start() ended (or the last
 * transaction ended by pga_commit_start(), pga_rollback_start(),
 * pga_prepare_start() or their SQL), psycopg's Status: read it once the
 * step finished, so no front end infers it.  state is one of: */
enum pga_outcome_state {
    PGA_OUTCOME_NONE,          /* nothing has ended yet */
    PGA_OUTCOME_NOTHING_SENT,  /* ended as asked; nothing of it had reached the
                                  server, so nothing was sent (an empty block) */
    PGA_OUTCOME_COMMITTED,     /* COMMIT succeeded */
    PGA_OUTCOME_RELEASED,      /* a savepoint released (or a block without one
                                  ended well): its work now the enclosing one's */
    PGA_OUTCOME_ROLLED_BACK,   /* ROLLBACK or ROLLBACK TO, asked or not (see unasked) */
    PGA_OUTCOME_UNKNOWN,       /* lost with COMMIT or PREPARE in flight */
    PGA_OUTCOME_PREPARED       /* PREPARE TRANSACTION succeeded, as asked or as SQL
                                  inside the block */
};
typedef struct pga_outcome {
    int state;                 /* PGA_OUTCOME_* */
    int unasked;               /* ROLLED_BACK although the exit asked to commit,
                                  release or prepare: the block needed rollback (a
                                  failed statement, set_rollback), its COMMIT failed
                                  or was answered ROLLBACK, the session was lost or
                                  closed, or the transaction ended behind it */
    uint64_t cause;            /* pga_conn_error_seq() of the error that broke it
                                  (pga_atomic_outcome_cause()), 0 when none */
} pga_outcome;
/* ^Fills *out with the last outcome.  BLOCKS: never */
PGA_EXTERN void pga_atomic_outcome(const pga_conn *conn, pga_outcome *out);
/* Load the error that broke the last block into the error state (errmsg,
 * SQLSTATE, diag, pga_conn_error_seq() == outcome.cause) and return its
 * code, or PGA_OK when there is none.  BLOCKS: never */
PGA_EXTERN int pga_atomic_outcome_cause(pga_conn *conn);
/* ^The gid a PGA_OUTCOME_PREPARED block was prepared as, whether asked
 * (pga_prepare()) or by PREPARE TRANSACTION written as SQL inside it (the
 * front end knows no gid then: its hooks wait under this one); ^NULL for
 * any other outcome.  Valid until the next block ends.  BLOCKS: never */
PGA_EXTERN const char *pga_atomic_outcome_gid(const pga_conn *conn);

/* The savepoint name of the block at depth (1-based), or NULL when that
 * block has none (the outermost, or a merged block).  ^Names are made by
 * the core ("pga_s<n>"), never taken from user text.  BLOCKS: never */
PGA_EXTERN const char *pga_atomic_savepoint_name(const pga_conn *conn, int depth);

/* ---------------------------------------------------------------------------
 * Pipelined transactions (PGA_PIPELINE)
 *
 * An outermost block entered with PGA_PIPELINE is a pipelined transaction:
 * inside it (nested blocks included) pga_query_start() does not wait.  The
 * statement joins the open *flight* with the controls owed ahead of it
 * (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO) and returns PGA_OK with nothing
 * to drive; the flight travels, with one sync, when it is forced
 * (pga_pipeline_sync_start(): a front end does it when a result is first
 * read) or when the transaction's block exits, whose COMMIT joins it: a
 * block that reads nothing before COMMIT costs one round trip, nested
 * blocks included.  ^The flag is ignored on a block that is not the
 * transaction (nested, or inside manual mode or a BEGIN given as SQL).
 * What surfaces later than in normal mode (docs/core.md "Pipelined
 * transactions"):
 *   - a failing statement's error is returned by whatever forces its
 *     flight: pga_pipeline_sync_start()'s step (^the flight's first
 *     failure, whichever statement's result was wanted) or the block's
 *     exit (^PGA_ESERVER with that statement's error; everything is rolled
 *     back, hooks dropped);
 *   - ^a nested block whose statement fails unread has already exited
 *     (released) when the failure is learned: the whole transaction rolls
 *     back, since the statements queued after it did not run;
 *   - hooks run only after the real COMMIT, as always.
 * ^In a pipelined transaction control statements given as SQL are sent as
 * they are (not absorbed), and a script of several commands is refused
 * (PGA_EMISUSE).  While a flight is open only statements, blocks, the C
 * savepoint calls, hooks and pga_pipeline_sync_start() are accepted;
 * everything else is PGA_EBUSY.
 * ------------------------------------------------------------------------- */

/* ^1 when a statement started now would be queued into a flight (inside a
 * pipelined transaction).  BLOCKS: never */
PGA_EXTERN int pga_pipeline_active(const pga_conn *conn);

/* ^The number of statements queued into the open flight (0: none open).
 * The statement just queued by pga_query_start() is index
 * pga_pipeline_queued() - 1 for pga_batch_outcome() once the flight has
 * travelled.  BLOCKS: never */
PGA_EXTERN int pga_pipeline_queued(const pga_conn *conn);

/* Send the open flight and wait for it; drive with pga_conn_step().  With
 * no flight open it returns PGA_OK and there is nothing to drive.  The step
 * ends with PGA_OK, or the first failure of the flight (its error state);
 * ^the block is then broken, as after any failed statement.  Afterwards
 * pga_batch_outcome(conn, i, &res) gives statement i's own outcome (those
 * after the failure: PGA_EBROKEN with it as cause) until the next operation
 * starts.  ^The same holds after the exit that ended a flight with PGA_OK
 * or with a rollback (pga_batch_size() says how many outcomes remain; none
 * after a COMMIT that failed).  METHOD: pga_conn  BLOCKS: never
 * Returns PGA_OK, PGA_EBUSY. */
PGA_EXTERN int pga_pipeline_sync_start(pga_conn *conn);

/* BLOCKS: network; twin: pga_pipeline_sync_start(). */
PGA_EXTERN int pga_pipeline_sync(pga_conn *conn);

/* The connection's pipeline mode (psycopg's conn.pipeline(), the DB-API's
 * form): while it is on, every transaction the connection holds is
 * pipelined as above, whoever opened it: ^a manual transaction (autocommit
 * off: its BEGIN rides in the flight, and pga_commit_start() /
 * pga_rollback_start() end it in the same flight, so k statements read by
 * nobody before the commit cost one round trip), ^a transaction begun as
 * SQL, and an atomic block's, nested blocks included.  ^Outside a
 * transaction (autocommit on, no block) a statement is its own
 * transaction and runs at once, as without the mode.  What surfaces later
 * is the same as in a pipelined block: a failing statement's error comes
 * with the flight (its sync, or the commit, which then rolls back and
 * returns it: PGA_ESERVER), and the statements queued after it do not run.
 * In a manual transaction a failure read at a sync leaves the transaction
 * failed, as in normal mode: ^the next commit is answered with ROLLBACK
 * (PGA_EROLLEDBACK, the failure as its reason).
 * ^A control statement given as SQL in the SQL control mode is not
 * queued: with a flight open pga_query_start() refuses it (PGA_EBUSY) and
 * pga_pipeline_must_sync() says so beforehand, so a driver sends the flight
 * first; with none open it acts as in normal mode (a COMMIT as SQL is thus
 * a round trip of its own after the flight's).
 * Turning the mode off while a flight it opened is still unsent is
 * refused (PGA_EBUSY): send it first.  METHOD: pga_conn  BLOCKS: never
 * Returns PGA_OK or PGA_EBUSY. */
PGA_EXTERN int pga_conn_set_pipeline(pga_conn *conn, int on);
PGA_EXTERN int pga_conn_get_pipeline(const pga_conn *conn);

/* ^1 when a flight is open and sql (with params) cannot join it: a
 * control statement given as SQL in the connection's pipeline mode (see
 * above).  The driver then sends the flight (pga_pipeline_sync_start())
 * before starting the statement.  BLOCKS: never */
PGA_EXTERN int pga_pipeline_must_sync(const pga_conn *conn, const char *sql,
                                      const pga_params *params);

/* ---------------------------------------------------------------------------
 * Manual mode (Django's autocommit off)
 *
 * With autocommit off the first statement opens a transaction (BEGIN rides
 * with it) that pga_commit() or pga_rollback() ends.  Blocks opened then
 * are savepoints of that transaction.
 * ------------------------------------------------------------------------- */

/* BLOCKS: never.  Returns PGA_OK, PGA_EINATOMIC (^inside a block),
 * PGA_EINTRANS (changing it while a transaction is open: a manual one
 * with BEGIN sent, or one begun as SQL). */
PGA_EXTERN int pga_conn_set_autocommit(pga_conn *conn, int on);
PGA_EXTERN int pga_conn_get_autocommit(const pga_conn *conn);
/* 1 while a manual transaction has been opened (BEGIN sent) and not ended. */
PGA_EXTERN int pga_conn_in_manual_txn(const pga_conn *conn);

/* The modes every transaction that manual mode opens begins with: a set of
 * PGA_ISO_*, PGA_READ_ONLY / PGA_READ_WRITE, PGA_DEFERRABLE /
 * PGA_NOT_DEFERRABLE (0: the server's defaults), kept until changed, as
 * psycopg's isolation_level, read_only and deferrable attributes are.
 * ^Until BEGIN is sent they still apply to the transaction in hand (it
 * rides with the first statement).  BLOCKS: never
 * Returns PGA_OK, PGA_EMISUSE (^not a valid set), PGA_EINTRANS (^a manual
 * transaction has already sent its BEGIN), PGA_EBUSY. */
PGA_EXTERN int pga_conn_set_txn_options(pga_conn *conn, unsigned modes);
PGA_EXTERN unsigned pga_conn_get_txn_options(const pga_conn *conn);

/* End the transaction, if one is open (a manual one, or one begun as SQL);
 * else do nothing.  A transaction that sent nothing ends without a round
 * trip.  BLOCKS: never; drive with pga_conn_step().  Returns PGA_OK,
 * PGA_EINATOMIC.  The commit step ends like pga_atomic_exit_start()'s. */
PGA_EXTERN int pga_commit_start(pga_conn *conn);
PGA_EXTERN int pga_rollback_start(pga_conn *conn);
/* Blocking twins. */
PGA_EXTERN int pga_commit(pga_conn *conn);
PGA_EXTERN int pga_rollback(pga_conn *conn);

/* ---------------------------------------------------------------------------
 * Savepoints by name (Django's savepoint API, SQLAlchemy's hooks)
 *
 * Deferred like the blocks': ^nothing is sent by these calls; SAVEPOINT,
 * RELEASE and ROLLBACK TO ride with the next statement, or with COMMIT,
 * and one left before any statement ran costs nothing.  PostgreSQL's
 * rules hold: ^a savepoint survives a ROLLBACK TO it; ^releasing or
 * rolling back to one ends every newer one; ^a repeated name refers to the
 * newest savepoint of that name until it is released.  Blocks' savepoints
 * are on the same stack.  Names are sent quoted, so any text is safe.
 * ^Outside a transaction (autocommit on, no block, no BEGIN given as SQL)
 * they do nothing and report PGA_OK, as Django's do.
 * ------------------------------------------------------------------------- */

/* Create a savepoint called name (1 to PGA_NAME_MAX bytes of UTF-8), or,
 * with name NULL, one the core names ("pga_s<n>").  *made (if not NULL)
 * receives the name (borrowed), or NULL when nothing was done.
 * METHOD: pga_conn  BLOCKS: never
 * Returns PGA_OK, PGA_EMISUSE (^a bad name), PGA_ESERVER (^25P02: the
 * transaction failed and the server would refuse it), PGA_ECLOSED,
 * PGA_ECONN, PGA_EBUSY, PGA_ENOMEM. */
PGA_EXTERN int pga_savepoint(pga_conn *conn, const char *name, const char **made);
/* RELEASE the newest savepoint called name.  Returns PGA_OK,
 * PGA_ESAVEPOINT (^no such savepoint: nothing is sent, nothing changes),
 * PGA_ESERVER (^25P02 in a failed transaction), ... as above. */
PGA_EXTERN int pga_savepoint_release(pga_conn *conn, const char *name);
/* ROLLBACK TO the newest savepoint called name.  Hooks registered since it
 * are dropped (pga_hook_next()) and ^the rollback flag is cleared: the
 * transaction is healthy again.  Returns PGA_OK, PGA_ESAVEPOINT, ... */
PGA_EXTERN int pga_savepoint_rollback(pga_conn *conn, const char *name);

/* ---------------------------------------------------------------------------
 * Two-phase commit
 *
 * PREPARE TRANSACTION keeps a transaction on the server, under a global id
 * (gid, 1 to PGA_GID_MAX bytes of UTF-8), until COMMIT PREPARED or ROLLBACK
 * PREPARED of that gid, from any connection to the same database, even
 * after the client restarted.  The server needs max_prepared_transactions
 * above 0.
 * ------------------------------------------------------------------------- */

/* Prepare the transaction in hand: the outermost block's (which then
 * ends, as pga_atomic_exit_start() would), a manual one, or one begun as
 * SQL.  Hooks wait under gid (pga_hook_settle_prepared()).  A transaction
 * that sent nothing yet is prepared too (BEGIN goes first): the server
 * keeps it, empty.  METHOD: pga_conn  BLOCKS: never; drive with
 * pga_conn_step().
 * Returns PGA_OK, or without sending anything and changing nothing:
 * PGA_EMISUSE (^inside a savepoint: only the outermost transaction can be
 * prepared; ^no transaction; ^a bad gid), PGA_EBROKEN (the block needs
 * rollback), PGA_ECLOSED, PGA_ECONN, PGA_EBUSY.  The step ends with PGA_OK
 * (prepared), PGA_ESERVER (^42710: the gid is in use; the server has
 * rolled this transaction back and ^the prepared one of that gid is
 * untouched), PGA_EROLLEDBACK (the transaction had failed: rolled back,
 * nothing prepared), PGA_ECONN, PGA_ECOMMITUNKNOWN (lost while PREPARE was
 * in flight: prepared or not, list them to know). */
PGA_EXTERN int pga_prepare_start(pga_conn *conn, const char *gid);
PGA_EXTERN int pga_prepare(pga_conn *conn, const char *gid);

/* COMMIT PREPARED / ROLLBACK PREPARED gid.  They cannot run inside a
 * transaction: ^PGA_EINATOMIC in a block and PGA_EINTRANS with a manual
 * (BEGIN sent) or SQL transaction open, nothing sent.  In manual mode no
 * BEGIN goes first.  METHOD: pga_conn  BLOCKS: never; drive with
 * pga_conn_step().  The step ends with PGA_OK or PGA_ESERVER (^42704: no
 * prepared transaction of that gid).  On success, hooks waiting under gid
 * on this connection become ready (run / dropped). */
PGA_EXTERN int pga_commit_prepared_start(pga_conn *conn, const char *gid);
PGA_EXTERN int pga_rollback_prepared_start(pga_conn *conn, const char *gid);
PGA_EXTERN int pga_commit_prepared(pga_conn *conn, const char *gid);
PGA_EXTERN int pga_rollback_prepared(pga_conn *conn, const char *gid);

/* The prepared transactions of the current database, oldest first: a
 * result with the text columns gid, prepared (timestamptz), owner,
 * database (pg_prepared_xacts), taken with pga_conn_take_result().  Outside
 * a transaction it opens none, in manual mode too.
 * METHOD: pga_conn  BLOCKS: never; drive with pga_conn_step(). */
PGA_EXTERN int pga_prepared_list_start(pga_conn *conn);
/* Blocking twin: on PGA_OK *out receives the result, owned by the caller. */
PGA_EXTERN int pga_prepared_list(pga_conn *conn, pga_result **out);

/* ---------------------------------------------------------------------------
 * Commit hooks
 *
 * A hook is a function, its data and a destructor.  The core never calls
 * the function; it hands the hook back, in registration order, once the
 * outermost COMMIT succeeded, or reports it dropped when the transaction,
 * or any savepoint it was registered under, rolled back.  ^A transaction
 * begun as SQL, or in manual mode, that a COMMIT or ROLLBACK given as SQL
 * ends (AND CHAIN too) settles its hooks as the server answered: COMMIT
 * runs them; ROLLBACK, also the answer to COMMIT of a failed transaction,
 * drops them.
 * ------------------------------------------------------------------------- */

typedef struct pga_hook {
    void (*run)(void *data);      /* may be NULL: the binding knows what to do */
    void *data;
    void (*destroy)(void *data);  /* may be NULL */
} pga_hook;

#define PGA_HOOK_NOW 1   /* no transaction: run it at once (not kept) */

/* Register a hook for the current transaction.  METHOD: pga_conn
 * BLOCKS: never
 * Returns PGA_OK (kept), PGA_HOOK_NOW (^no transaction is active: the core
 * keeps nothing and the caller runs it now), PGA_EMANUAL (^autocommit off
 * and no block, or a transaction begun as SQL and no block), PGA_ENOMEM. */
PGA_EXTERN int pga_hook_add(pga_conn *conn, const pga_hook *hook);

/* Register a hook for the block at depth (1 = outermost ... the current
 * depth), so that ^it is dropped only when that block, or one enclosing
 * it, rolls back: Sequelize's afterCommit() on a root transaction while a
 * savepoint of it is open.  BLOCKS: never
 * Returns PGA_OK, PGA_EMISUSE (^depth not an open block), PGA_ENOMEM. */
PGA_EXTERN int pga_hook_add_at(pga_conn *conn, int depth, const pga_hook *hook);

/* Call visit(data, arg) on the data of every hook the core still holds
 * (registered, ready, or waiting for a prepared transaction), for a binding
 * whose garbage collector must see what a connection keeps alive: ^a cycle
 * through a hook's data (an on_commit callable that refers to its own
 * connection) is then found and freed.  Stops at, and returns, the first
 * nonzero visit() result; 0 otherwise.  The core keeps owning the data.
 * METHOD: pga_conn  BLOCKS: never */
PGA_EXTERN int pga_hook_visit(const pga_conn *conn, int (*visit)(void *data, void *arg),
                              void *arg);

#define PGA_HOOK_RUN 1
#define PGA_HOOK_DROP 2

/* Take the next hook ready for its owner: PGA_HOOK_RUN (committed: run it,
 * then destroy it), PGA_HOOK_DROP (rolled back: only destroy it), or 0 when
 * none is ready.  The caller owns the hook taken.  ^Hooks are handed back in
 * registration order.  Take all ready hooks before running any, since a
 * hook that commits a transaction of its own makes new hooks ready.
 * BLOCKS: never */
PGA_EXTERN int pga_hook_next(pga_conn *conn, pga_hook *out);

/* ^The hooks of a prepared transaction wait under its gid on the
 * connection that prepared it: ^they become ready to run (PGA_HOOK_RUN)
 * when COMMIT PREPARED of that gid succeeds on this connection, ^and are
 * dropped when ROLLBACK PREPARED does; never at PREPARE.  A front end that
 * ends the gid through another of its connections (a pool) hands them
 * over with this call: disposition PGA_HOOK_RUN or PGA_HOOK_DROP; then
 * take them with pga_hook_next().  A gid with no hooks waiting is not an
 * error.  Hooks still waiting are destroyed by pga_conn_free().
 * BLOCKS: never.  Returns PGA_OK, PGA_EMISUSE, PGA_ENOMEM. */
PGA_EXTERN int pga_hook_settle_prepared(pga_conn *conn, const char *gid, int disposition);

/* ---------------------------------------------------------------------------
 * Notifications (LISTEN / NOTIFY)
 *
 * What the server sends for a LISTEN is read along with results, and by
 * pga_conn_probe() while idle, and kept, oldest first, until taken.
 * ^At most PGA_NOTIFY_MAX wait on a connection: past that the oldest is
 * dropped and counted, so one that nobody takes holds bounded memory.
 * ^They outlive pga_conn_close() and are freed by pga_conn_free().
 * ------------------------------------------------------------------------- */

#define PGA_NOTIFY_MAX 10000

typedef struct pga_notification {
    const char *channel;   /* borrowed: valid until the next call on the connection */
    const char *payload;   /* "" when NOTIFY gave none */
    int pid;               /* process id of the notifying backend */
} pga_notification;

/* Take the oldest waiting notification: returns 1 and fills *out (if not
 * NULL), or 0 when none waits.  It reads nothing from the socket: a caller
 * that wants news while idle watches the socket and calls
 * pga_conn_probe() when it turns readable.  BLOCKS: never */
PGA_EXTERN int pga_notification_next(pga_conn *conn, pga_notification *out);

/* How many notifications were dropped over the bound since the handle was
 * made.  BLOCKS: never */
PGA_EXTERN uint64_t pga_notifications_dropped(const pga_conn *conn);

/* ---------------------------------------------------------------------------
 * Results
 *
 * Values arrive in PostgreSQL's text format; pga_value_decode() parses them
 * by column type into the plain values below, which bindings turn into their
 * language's objects.
 *
 * The session's DateStyle and IntervalStyle are not pinned (a pooler
 * shares sessions, and the role or the user may set them).  ^Whatever they
 * are, pga_result_text() gives date, timestamp and timestamptz values (and
 * arrays of them) in ISO form and intervals in postgres form: values
 * written in another style are rewritten, with the day/month order of the
 * DateStyle the server last reported (ParameterStatus) when the result
 * arrived.  ^pga_value_decode() reads intervals in all four IntervalStyles,
 * so a pooled session whose IntervalStyle another client changed decodes
 * right even unreported.  ^A timestamptz written with an alphabetic zone
 * abbreviation (DateStyle SQL, Postgres or German with a TimeZone other
 * than UTC: "CEST") cannot be placed in time without the zone database; it
 * is left as it came and ^pga_value_decode() refuses it with PGA_EDECODE
 * rather than guess.  Limit: a statement that changes DateStyle's order
 * runs in the same batch as one reading dates in SQL or Postgres style
 * before the server reports the change (PostgreSQL reports it when the
 * batch ends).
 * ------------------------------------------------------------------------- */

/* DESTRUCTOR: pga_result. */
PGA_EXTERN void pga_result_free(pga_result *res);
PGA_EXTERN int pga_result_nrows(const pga_result *res);
PGA_EXTERN int pga_result_ncols(const pga_result *res);
PGA_EXTERN const char *pga_result_colname(const pga_result *res, int col);
/* The column's type OID. */
PGA_EXTERN unsigned pga_result_coltype(const pga_result *res, int col);
/* The column's type modifier, as the server reports it: -1 when the type
 * has none; else type-specific (varchar(n): n + 4; numeric(p, s):
 * ((p << 16) | s) + 4; timestamp(p): p).  PEP 249's description reads it. */
PGA_EXTERN int pga_result_coltypmod(const pga_result *res, int col);
/* The size in bytes of the column's type on the server, or -1 when it
 * varies (text, numeric, arrays...). */
PGA_EXTERN int pga_result_colsize(const pga_result *res, int col);
/* The command tag, e.g. "INSERT 0 1". */
PGA_EXTERN const char *pga_result_status(const pga_result *res);
/* Rows affected or returned, or -1 when the command reports none. */
PGA_EXTERN int64_t pga_result_rowcount(const pga_result *res);
PGA_EXTERN int pga_result_isnull(const pga_result *res, int row, int col);
/* The value's text (borrowed from the result) and its length; dates,
 * times and intervals in canonical form (above). */
PGA_EXTERN const char *pga_result_text(const pga_result *res, int row, int col,
                                       size_t *len);

/* How a column or array element decodes. */
enum pga_type_kind {
    PGA_T_TEXT,        /* str: text, varchar, char, name, and unknown types */
    PGA_T_BOOL,
    PGA_T_INT,         /* int2, int4, int8, oid */
    PGA_T_FLOAT,       /* float4, float8 */
    PGA_T_NUMERIC,     /* decimal digits as text */
    PGA_T_BYTEA,
    PGA_T_DATE,
    PGA_T_TIME,
    PGA_T_TIMESTAMP,
    PGA_T_TIMESTAMPTZ,
    PGA_T_INTERVAL,
    PGA_T_UUID,
    PGA_T_JSON,        /* json and jsonb: the JSON text */
    PGA_T_ARRAY,       /* any array: iterate with pga_array_* */
    PGA_T_TIMETZ       /* time with time zone: the time and utc_offset */
};

/* The kind of a type OID; for arrays, *elem_oid (if not NULL) receives the
 * element type.  Unknown OIDs are PGA_T_TEXT.  BLOCKS: never */
PGA_EXTERN int pga_type_kind(unsigned oid, unsigned *elem_oid);

/* A decoded scalar.  Which fields are set depends on kind. */
typedef struct pga_value {
    int kind;                  /* PGA_T_* */
    int is_null;
    int64_t i;                 /* INT; BOOL (0/1) */
    double f;                  /* FLOAT */
    const char *s;             /* TEXT, NUMERIC, JSON: borrowed text */
    size_t len;                /* its length; BYTEA: decoded length */
    int year, month, day;      /* DATE, TIMESTAMP(TZ) */
    int hour, minute, second, microsecond;   /* TIME(TZ), TIMESTAMP(TZ) */
    int utc_offset;            /* TIMESTAMPTZ, TIMETZ: seconds east of UTC */
    int infinity;              /* DATE, TIMESTAMP(TZ): +1 'infinity', -1 '-infinity' */
    int64_t days, seconds, microseconds;     /* INTERVAL (months folded in as 30 days) */
    int64_t months;            /* INTERVAL: the months part, also folded into days */
    unsigned char uuid[16];    /* UUID */
} pga_value;

/* Decode the text of one value of the given kind.  BYTEA is not decoded
 * here (see pga_bytea_decode()); its value->len is set to the decoded size.
 * Returns PGA_OK or PGA_EDECODE (^malformed text never crashes).
 * BLOCKS: never */
PGA_EXTERN int pga_value_decode(int kind, const char *text, size_t len, pga_value *out);

/* Decode bytea text (hex "\x..." or escape format) into out, which holds
 * at least the value->len pga_value_decode() reported.  Returns the number
 * of bytes written or PGA_EDECODE. */
PGA_EXTERN int64_t pga_bytea_decode(const char *text, size_t len, unsigned char *out);

/* Array text ("{1,2,{3,NULL}}") read as a stream of tokens. */
typedef struct pga_array_reader {
    const char *p, *end;       /* private */
    char *buf;                 /* private: unescaped element */
    size_t buf_cap;            /* private */
    int depth;                 /* private */
} pga_array_reader;

#define PGA_ARRAY_BEGIN 1    /* a '{' */
#define PGA_ARRAY_END 2      /* a '}' */
#define PGA_ARRAY_ELEM 3     /* an element: text and len set, borrowed until the next call */
#define PGA_ARRAY_NULL 4     /* an unquoted NULL */

/* Start reading array text.  BLOCKS: never */
PGA_EXTERN void pga_array_reader_init(pga_array_reader *r, const char *text, size_t len);
/* The next token; 0 at the end; PGA_EDECODE on malformed text, PGA_ENOMEM. */
PGA_EXTERN int pga_array_next(pga_array_reader *r, const char **text, size_t *len);
/* Free the reader's buffer.  Safe to call twice. */
PGA_EXTERN void pga_array_reader_done(pga_array_reader *r);

#ifdef __cplusplus
}
#endif
#endif /* PGATOMIC_H */
