// connection.cc -- drives one pga_conn from the event loop.
// The core's starters never block and pga_conn_step() says what to wait
// for; this file only waits (uv_poll) and settles promises.  Which SQL
// travels, and when, is the core's business; queueing is node/lib's.
#include "connection.h"


#include <libpq-fe.h>

#include <cstring>
#include <string>

namespace {

int ReadyMask(int status, int events) {
  // An error on the poll (EBADF after the server hung up, ...) is handed to
  // the step as "everything ready": libpq then finds out what happened.
  if (status < 0) {
    return PGA_READY_READ | PGA_READY_WRITE;
  }
  int ready = 0;
  if (events & (UV_READABLE | UV_DISCONNECT)) {
    ready |= PGA_READY_READ;
  }
  if (events & UV_WRITABLE) {
    ready |= PGA_READY_WRITE;
  }
  return ready;
}

// A new promise, or an empty value when the environment can no longer run
// JS (a worker being terminated): callers then return that empty value.
Napi::Value NewPromise(Napi::Env env, napi_deferred* deferred) {
  napi_value promise = nullptr;
  if (napi_create_promise(env, deferred, &promise) != napi_ok) {
    *deferred = nullptr;
    return Napi::Value();
  }
  return Napi::Value(env, promise);
}

void SettleDeferred(Napi::Env env, napi_deferred deferred, bool ok, Napi::Value value) {
  if (deferred == nullptr) {
    return;
  }
  napi_value v = value.IsEmpty() ? env.Undefined() : value;
  if (ok) {
    napi_resolve_deferred(env, deferred, v);
  } else {
    napi_reject_deferred(env, deferred, v);
  }
}

// The optional callback argument of an operation: a function, or empty
// (the operation then returns a promise).
Napi::Value CallbackArg(const Napi::CallbackInfo& info, size_t index) {
  return info.Length() > index && info[index].IsFunction() ? info[index] : Napi::Value();
}

// A starter's "a JS exception is pending" (a bad argument): no core code
// is this low.
constexpr int kThrown = -100000;

}  // namespace

// Every operation starts here: refused with EBUSY while another is in
// flight (start then never runs), else start() calls the core's starter
// and returns its code, filling extra when it knows more (PGA_EPARAMCOUNT),
// or kThrown with a JS exception pending.
template <typename Start>
Napi::Value Connection::StartIfIdle(Napi::Env env, Op op, Napi::Value callback, Start start) {
  if (op_ != Op::kNone) {
    return Rejected(env, PGA_EBUSY, nullptr, callback);
  }
  ErrorExtra extra;
  int rc = start(&extra);
  if (rc == kThrown) {
    return Napi::Value();
  }
  return Begin(env, op, rc, &extra, callback);
}

Napi::Function Connection::Define(Napi::Env env, Addon* addon) {
  Napi::Function ctor = DefineClass(
      env, "Connection",
      {
          InstanceMethod<&Connection::JsConnect>("connect"),
          InstanceMethod<&Connection::JsQuery>("query"),
          InstanceMethod<&Connection::JsBatch>("batch"),
          InstanceMethod<&Connection::JsStreamStart>("streamStart"),
          InstanceMethod<&Connection::JsStreamNext>("streamNext"),
          InstanceMethod<&Connection::JsStreamClose>("streamClose"),
          InstanceMethod<&Connection::JsEnter>("enter"),
          InstanceMethod<&Connection::JsExit>("exit"),
          InstanceMethod<&Connection::JsQueue>("queue"),
          InstanceMethod<&Connection::JsPipelineSync>("pipelineSync"),
          InstanceMethod<&Connection::JsExitFlight>("exitFlight"),
          InstanceMethod<&Connection::JsPipelineQueued>("pipelineQueued"),
          InstanceMethod<&Connection::JsPipelineActive>("pipelineActive"),
          InstanceMethod<&Connection::JsCancel>("cancel"),
          InstanceMethod<&Connection::JsSetTimeout>("setTimeout"),
          InstanceMethod<&Connection::JsSetPrepareThreshold>("setPrepareThreshold"),
          InstanceMethod<&Connection::JsSetBusyPoll>("setBusyPoll"),
          InstanceMethod<&Connection::JsPreparedCount>("preparedCount"),
          InstanceMethod<&Connection::JsClose>("close"),
          InstanceMethod<&Connection::JsState>("state"),
          InstanceMethod<&Connection::JsReusable>("reusable"),
          InstanceMethod<&Connection::JsRoundTrips>("roundTrips"),
          InstanceMethod<&Connection::JsDepth>("depth"),
          InstanceMethod<&Connection::JsProbe>("probe"),
          InstanceMethod<&Connection::JsHookAdd>("hookAdd"),
          InstanceMethod<&Connection::JsHookNext>("hookNext"),
          InstanceMethod<&Connection::JsSetSqlControls>("setSqlControls"),
          InstanceMethod<&Connection::JsSavepoint>("savepoint"),
          InstanceMethod<&Connection::JsReleaseSavepoint>("releaseSavepoint"),
          InstanceMethod<&Connection::JsRollbackToSavepoint>("rollbackToSavepoint"),
          InstanceMethod<&Connection::JsSetTxnOptions>("setTxnOptions"),
          InstanceMethod<&Connection::JsSetAutocommit>("setAutocommit"),
          InstanceMethod<&Connection::JsPrepare>("prepare"),
          InstanceMethod<&Connection::JsCommitPrepared>("commitPrepared"),
          InstanceMethod<&Connection::JsRollbackPrepared>("rollbackPrepared"),
          InstanceMethod<&Connection::JsListPrepared>("listPrepared"),
          InstanceMethod<&Connection::JsSettlePrepared>("settlePrepared"),
          InstanceMethod<&Connection::JsServerInfo>("serverInfo"),
          InstanceMethod<&Connection::JsOnNotify>("onNotify"),
          InstanceMethod<&Connection::JsNotificationsDropped>("notificationsDropped"),
          InstanceMethod<&Connection::JsOnIdleEnd>("onIdleEnd"),
          InstanceMethod<&Connection::JsRefIdle>("refIdle"),
          InstanceMethod<&Connection::JsOutcome>("outcome"),
      });
  addon->connection_ctor = Napi::Persistent(ctor);
  return ctor;
}

Connection::Connection(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Connection>(info), addon_(info.Env().GetInstanceData<Addon>()) {
  Napi::Env env = info.Env();
  if (pga_conn_new(&conn_) != PGA_OK || pga_params_new(&params_) != PGA_OK) {
    Napi::Error::New(env, "out of memory").ThrowAsJavaScriptException();
    return;
  }
  if (addon_ != nullptr) {
    addon_->connections.insert(this);
  }
}

Connection::~Connection() {
  if (addon_ != nullptr) {
    addon_->connections.erase(this);
  }
  // The wrapper can be collected long after close() (object_wrap.md); by
  // then nothing is in flight, since an operation holds a reference.
  StopWatching(true);
  StopTimer(true);
  pga_params_free(params_);
  pga_conn_free(conn_);
}

void Connection::Shutdown() {
  StopWatching(true);
  StopTimer(true);
  closed_ = true;
  if (conn_ != nullptr) {
    pga_conn_close(conn_);
  }
}

void Connection::Detach() {
  addon_ = nullptr;
  // A promise or async context of a dying environment must not be touched
  // again (napi_async_destroy on it crashed worker.terminate()); leaking
  // two small objects at teardown is the lesser evil.
  settler_.Forget();
  op_context_.release();
  notify_context_.release();
  notify_.SuppressDestruct();
  end_context_.release();
  end_.SuppressDestruct();
  op_ = Op::kNone;
}

Napi::Value Connection::JsConnect(const Napi::CallbackInfo& info) {
  return StartIfIdle(info.Env(), Op::kConnect, Napi::Value(), [&](ErrorExtra*) {
    std::string conninfo;
    bool have = info.Length() > 0 && info[0].IsString();
    if (have) {
      conninfo = info[0].As<Napi::String>().Utf8Value();
    }
    closed_ = false;
    return pga_conn_connect_start(conn_, have ? conninfo.c_str() : nullptr);
  });
}

Napi::Value Connection::JsQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "SQL must be a string").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  // query(sql, params, int8Mode[, callback])
  return StartIfIdle(env, Op::kQuery, CallbackArg(info, 3), [&](ErrorExtra* extra) {
    std::string sql;
    if (!StatementArgs(info, &sql)) {
      return kThrown;  // TypeError (or JSON.stringify's error) pending
    }
    int given = pga_params_count(params_);
    int rc = pga_query_start(conn_, sql.c_str(), given > 0 ? params_ : nullptr);
    if (rc == PGA_EPARAMCOUNT) {
      extra->expected_params = pga_sql_count_params(sql.c_str());
      extra->given_params = given;
    }
    return rc;
  });
}

// The (sql, params, int8Mode) of query() and queue(), sql already checked
// to be a string: the text (no NUL), the result mode, the parameters
// encoded into params_.  false with a TypeError (or JSON.stringify's
// error) pending.
bool Connection::StatementArgs(const Napi::CallbackInfo& info, std::string* sql) {
  Napi::Env env = info.Env();
  *sql = info[0].As<Napi::String>().Utf8Value();
  if (std::strlen(sql->c_str()) != sql->size()) {
    Napi::TypeError::New(env, "SQL must not contain a NUL character")
        .ThrowAsJavaScriptException();
    return false;
  }
  int8_mode_ = info.Length() > 2 && info[2].IsNumber()
                   ? info[2].As<Napi::Number>().Int32Value()
                   : kInt8String;
  return EncodeParams(env, info.Length() > 1 ? info[1] : env.Undefined());
}

// streamStart(sql, params, mode, maxRows) -> Promise<batch>, then
// streamNext() for each following batch while the last said done: false;
// streamClose() ends the stream early (the core drains the rest).  A
// batch is { done, result }, the result built as query() builds one (a
// slice at a time); only the last (done: true) carries the command's tag
// and row count.  Between batches nothing reads the socket: the core
// reads only while a batch is asked for, so a reader that stops asking
// stops the server (back-pressure), and the idle watch stays off.
Napi::Value Connection::JsStreamStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "SQL must be a string").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  return StartIfIdle(env, Op::kStream, Napi::Value(), [&](ErrorExtra* extra) {
    std::string sql;
    if (!StatementArgs(info, &sql)) {
      return kThrown;  // TypeError (or JSON.stringify's error) pending
    }
    // Every batch is built in the mode the stream started with; the first
    // may be settled before Begin() returns.
    stream_mode_ = int8_mode_;
    int max_rows = info.Length() > 3 && info[3].IsNumber()
                       ? info[3].As<Napi::Number>().Int32Value()
                       : 1000;
    int given = pga_params_count(params_);
    int rc = pga_stream_start(conn_, sql.c_str(), given > 0 ? params_ : nullptr, max_rows);
    if (rc == PGA_EPARAMCOUNT) {
      extra->expected_params = pga_sql_count_params(sql.c_str());
      extra->given_params = given;
    }
    return rc;
  });
}

Napi::Value Connection::JsStreamNext(const Napi::CallbackInfo& info) {
  return StartIfIdle(info.Env(), Op::kStream, Napi::Value(),
                     [&](ErrorExtra*) { return pga_stream_next_start(conn_); });
}

Napi::Value Connection::JsStreamClose(const Napi::CallbackInfo& info) {
  return StartIfIdle(info.Env(), Op::kStreamClose, Napi::Value(),
                     [&](ErrorExtra*) { return pga_stream_close_start(conn_); });
}

// batch([[sql, params], ...], int8Mode) -> { consumed, refused, promise }.
// Statements go out in one round trip (pga_batch_*).  refused[i] is the
// error of a statement the core or the encoder would not add (it has no
// outcome); consumed < list.length when statement `consumed` is a script of
// several commands, which must run alone: the caller sends it and the rest
// next.  The promise resolves with one { ok, value | error } per added
// statement, in order, or rejects when the batch could not start.
Napi::Value Connection::JsBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "batch() needs an array").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Napi::Array list = info[0].As<Napi::Array>();
  uint32_t n = list.Length();
  int8_mode_ = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value()
                                                       : kInt8String;
  Napi::Object out = Napi::Object::New(env);
  Napi::Array refused = Napi::Array::New(env);
  out.Set("refused", refused);
  out.Set("consumed", Napi::Number::New(env, n));
  int rc = op_ != Op::kNone ? PGA_EBUSY : pga_batch_begin(conn_);
  if (rc < 0) {
    Napi::Value promise = Rejected(env, rc, nullptr, Napi::Value());
    if (promise.IsEmpty()) {
      return promise;
    }
    out.Set("promise", promise);
    return out;
  }
  uint32_t i = 0;
  for (; i < n; i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsArray() || !item.As<Napi::Array>().Get(0u).IsString()) {
      Napi::TypeError::New(env, "SQL must be a string").ThrowAsJavaScriptException();
      refused.Set(i, env.GetAndClearPendingException().Value());
      continue;
    }
    Napi::Array pair = item.As<Napi::Array>();
    std::string sql = pair.Get(0u).As<Napi::String>().Utf8Value();
    if (std::strlen(sql.c_str()) != sql.size()) {
      Napi::TypeError::New(env, "SQL must not contain a NUL character")
          .ThrowAsJavaScriptException();
      refused.Set(i, env.GetAndClearPendingException().Value());
      continue;
    }
    if (!EncodeParams(env, pair.Get(1u))) {
      refused.Set(i, env.GetAndClearPendingException().Value());
      continue;
    }
    int given = pga_params_count(params_);
    rc = pga_batch_add(conn_, sql.c_str(), given > 0 ? params_ : nullptr);
    if (rc == PGA_EMISUSE) {
      break;  // a script of several commands: it runs on its own
    }
    if (rc < 0) {
      ErrorExtra extra;
      if (rc == PGA_EPARAMCOUNT) {
        extra.expected_params = pga_sql_count_params(sql.c_str());
        extra.given_params = given;
      }
      Napi::Value err = ErrorFromCore(env, addon_, conn_, rc, &extra);
      if (env.IsExceptionPending()) {
        err = env.GetAndClearPendingException().Value();
      }
      refused.Set(i, err);
    }
  }
  out.Set("consumed", Napi::Number::New(env, i));
  Napi::Value promise = Begin(env, Op::kBatch, pga_batch_send(conn_), nullptr, Napi::Value());
  if (promise.IsEmpty()) {
    return promise;
  }
  out.Set("promise", promise);
  return out;
}

Napi::Value Connection::JsEnter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned flags = info.Length() > 0 && info[0].IsNumber()
                       ? info[0].As<Napi::Number>().Uint32Value()
                       : 0;
  int rc = op_ != Op::kNone ? PGA_EBUSY : pga_atomic_enter(conn_, flags);
  if (rc < 0) {
    Napi::Value err = ErrorFromCore(env, addon_, conn_, rc);
    if (!env.IsExceptionPending()) {
      napi_throw(env, err);
    }
    return Napi::Value();
  }
  // The new block's depth, which node/lib would otherwise ask depth() for.
  return Napi::Number::New(env, pga_atomic_depth(conn_));
}

// Throws the core's error for a failed synchronous call; returns whether it
// succeeded.
bool Connection::Check(Napi::Env env, int rc) {
  if (rc >= 0) {
    return true;
  }
  Napi::Value err = ErrorFromCore(env, addon_, conn_, rc);
  if (!env.IsExceptionPending()) {
    napi_throw(env, err);
  }
  return false;
}

// setSqlControls(on): the core's SQL control mode (pgatomic.h), for the
// pg-compatible driver: BEGIN, SAVEPOINT, ... given to query() join the
// round-trip plan and are answered with the server's tag.
Napi::Value Connection::JsSetSqlControls(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int on = info.Length() > 0 && info[0].ToBoolean().Value() ? 1 : 0;
  Check(env, op_ != Op::kNone ? PGA_EBUSY : pga_conn_set_sql_controls(conn_, on));
  return env.Undefined();
}

// The deferred, named savepoint calls (pga_savepoint() and its twins); a
// name that is not a string (or no name) asks the core to make one.
// savepoint([name]) -> the name, or null outside a transaction.
Napi::Value Connection::JsSavepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  bool named = info.Length() > 0 && info[0].IsString();
  if (named) {
    name = info[0].As<Napi::String>().Utf8Value();
  }
  const char* made = nullptr;
  if (!Check(env, op_ != Op::kNone ? PGA_EBUSY
                                   : pga_savepoint(conn_, named ? name.c_str() : nullptr, &made))) {
    return Napi::Value();
  }
  return made != nullptr ? Napi::Value(Napi::String::New(env, made)) : env.Null();
}

Napi::Value Connection::JsReleaseSavepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info.Length() > 0 ? info[0].ToString().Utf8Value() : std::string();
  Check(env, op_ != Op::kNone ? PGA_EBUSY : pga_savepoint_release(conn_, name.c_str()));
  return env.Undefined();
}

// rollbackToSavepoint(name): hooks registered since it are dropped; take
// them with hookNext().
Napi::Value Connection::JsRollbackToSavepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info.Length() > 0 ? info[0].ToString().Utf8Value() : std::string();
  Check(env, op_ != Op::kNone ? PGA_EBUSY : pga_savepoint_rollback(conn_, name.c_str()));
  return env.Undefined();
}

// setTxnOptions(flags): the modes of manual mode's implicit BEGIN
// (flags.ISO_*, READ_ONLY, ...; 0 for the server's defaults).
Napi::Value Connection::JsSetTxnOptions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned modes = info.Length() > 0 && info[0].IsNumber()
                       ? info[0].As<Napi::Number>().Uint32Value()
                       : 0;
  Check(env, op_ != Op::kNone ? PGA_EBUSY : pga_conn_set_txn_options(conn_, modes));
  return env.Undefined();
}

// setAutocommit(on): manual mode (off: the first statement opens a
// transaction that COMMIT or ROLLBACK ends), where setTxnOptions() applies.
Napi::Value Connection::JsSetAutocommit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int on = info.Length() > 0 && info[0].ToBoolean().Value() ? 1 : 0;
  Check(env, op_ != Op::kNone ? PGA_EBUSY : pga_conn_set_autocommit(conn_, on));
  return env.Undefined();
}

// Two-phase commit (pgatomic.h "Two-phase commit").  prepare(gid) ends the
// outermost block with PREPARE TRANSACTION; its hooks wait in the core
// until commitPrepared(gid) on this connection, or settlePrepared(gid, d)
// when another connection of the pool committed it.
Napi::Value Connection::GidOp(const Napi::CallbackInfo& info,
                              int (*start)(pga_conn*, const char*)) {
  return StartIfIdle(info.Env(), Op::kExit, Napi::Value(), [&](ErrorExtra*) {
    std::string gid = info.Length() > 0 ? info[0].ToString().Utf8Value() : std::string();
    return start(conn_, gid.c_str());
  });
}

Napi::Value Connection::JsPrepare(const Napi::CallbackInfo& info) {
  return GidOp(info, pga_prepare_start);
}

Napi::Value Connection::JsCommitPrepared(const Napi::CallbackInfo& info) {
  return GidOp(info, pga_commit_prepared_start);
}

Napi::Value Connection::JsRollbackPrepared(const Napi::CallbackInfo& info) {
  return GidOp(info, pga_rollback_prepared_start);
}

// listPrepared() -> a result: gid, prepared, owner, database, oldest first.
Napi::Value Connection::JsListPrepared(const Napi::CallbackInfo& info) {
  return StartIfIdle(info.Env(), Op::kQuery, Napi::Value(),
                     [&](ErrorExtra*) { return pga_prepared_list_start(conn_); });
}

Napi::Value Connection::JsSettlePrepared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string gid = info.Length() > 0 ? info[0].ToString().Utf8Value() : std::string();
  int disposition = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  Check(env, pga_hook_settle_prepared(conn_, gid.c_str(), disposition));
  return env.Undefined();
}

// outcome() -> { state, unasked, causeSeq, cause, gid }: how the last block (or
// transaction) ended, as the core reports it (pga_atomic_outcome), so
// lib/transaction.js never infers it.  cause is the error that broke it,
// built like any other core error.
Napi::Value Connection::JsOutcome(const Napi::CallbackInfo& info) {
  return OutcomeObject(info.Env());
}

// outcome()'s object, also what exit(failed, callback) settles with, plus
// roundTrips: the session's count once the block is over.
Napi::Value Connection::OutcomeObject(Napi::Env env) {
  static const char* const kStates[] = {"none",        "nothing sent", "committed", "released",
                                        "rolled back", "unknown",      "prepared"};
  pga_outcome o;
  pga_atomic_outcome(conn_, &o);
  Napi::Object out = Napi::Object::New(env);
  out.Set("state", Napi::String::New(env, kStates[o.state]));
  out.Set("unasked", Napi::Boolean::New(env, o.unasked != 0));
  out.Set("causeSeq", Napi::Number::New(env, static_cast<double>(o.cause)));
  if (const char* gid = pga_atomic_outcome_gid(conn_)) {
    out.Set("gid", Napi::String::New(env, gid));
  }
  if (o.cause != 0 && op_ == Op::kNone) {
    int rc = pga_atomic_outcome_cause(conn_);
    if (rc < 0) {
      Napi::Value err = ErrorFromCore(env, addon_, conn_, rc);
      if (env.IsExceptionPending()) {
        return Napi::Value();
      }
      out.Set("cause", err);
    }
  }
  out.Set("roundTrips", Napi::Number::New(env, static_cast<double>(pga_conn_round_trips(conn_))));
  return out;
}

// exit(failed) -> a promise of the exit; exit(failed, callback):
// callback(err, outcome) with outcome()'s object, the block's outcome and
// the exit's error in one crossing (outcome undefined when the exit could
// not start).
Napi::Value Connection::JsExit(const Napi::CallbackInfo& info) {
  Napi::Value callback = CallbackArg(info, 1);
  return StartIfIdle(info.Env(), callback.IsEmpty() ? Op::kExit : Op::kExitOutcome, callback,
                     [&](ErrorExtra*) {
                       int failed = info.Length() > 0 && info[0].ToBoolean().Value() ? 1 : 0;
                       return pga_atomic_exit_start(conn_, failed);
                     });
}

// Pipelined transactions (docs/pipeline.md).  queue(sql, params, int8Mode)
// -> the statement's index in the open flight: the core sends it without
// waiting (pga_query_start() in a pipelined transaction); throws what the
// core refuses at once.  Only inside a pipelined transaction.
Napi::Value Connection::JsQueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "SQL must be a string").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  if (op_ != Op::kNone || !pga_pipeline_active(conn_)) {
    Napi::Error::New(env, "queue() needs an idle session in a pipelined transaction")
        .ThrowAsJavaScriptException();
    return Napi::Value();
  }
  std::string sql;
  if (!StatementArgs(info, &sql)) {
    return Napi::Value();
  }
  int given = pga_params_count(params_);
  int rc = pga_query_start(conn_, sql.c_str(), given > 0 ? params_ : nullptr);
  if (rc < 0) {
    ErrorExtra extra;
    if (rc == PGA_EPARAMCOUNT) {
      extra.expected_params = pga_sql_count_params(sql.c_str());
      extra.given_params = given;
    }
    Napi::Value err = ErrorFromCore(env, addon_, conn_, rc, &extra);
    if (!env.IsExceptionPending()) {
      napi_throw(env, err);
    }
    ForgetClosedSocket();
    return Napi::Value();
  }
  return Napi::Number::New(env, pga_pipeline_queued(conn_) - 1);
}

// pipelineSync() -> Promise of one { ok, value | error } per statement of
// the flight (as batch()'s promise), once it has travelled.
Napi::Value Connection::JsPipelineSync(const Napi::CallbackInfo& info) {
  return StartIfIdle(info.Env(), Op::kBatch, Napi::Value(),
                     [&](ErrorExtra*) { return pga_pipeline_sync_start(conn_); });
}

// exitFlight(failed[, callback]) -> Promise<{ error, outcomes, outcome }>,
// rejected only when the exit could not start (callback(err, that object)
// instead): exit() of a pipelined transaction's block, which sends the
// flight; error is the exit's (or null), outcomes the flight's statements'
// (none after a COMMIT that failed), outcome the block's, as outcome()
// reports it.
Napi::Value Connection::JsExitFlight(const Napi::CallbackInfo& info) {
  return StartIfIdle(info.Env(), Op::kExitFlight, CallbackArg(info, 1), [&](ErrorExtra*) {
    int failed = info.Length() > 0 && info[0].ToBoolean().Value() ? 1 : 0;
    return pga_atomic_exit_start(conn_, failed);
  });
}

Napi::Value Connection::JsPipelineQueued(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), pga_pipeline_queued(conn_));
}

Napi::Value Connection::JsPipelineActive(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), pga_pipeline_active(conn_) != 0);
}

// cancel() -> Promise<boolean>, settled at once: the core's cancel never
// waits (its own non-blocking socket; a request still connecting is
// finished by the connection's steps, which the timer keeps coming).
Napi::Value Connection::JsCancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool sent = !closed_ && op_ != Op::kNone && pga_conn_is_open(conn_) &&
              pga_conn_cancel(conn_) == PGA_OK;
  if (sent) {
    ArmTimer();
  }
  napi_deferred d;
  Napi::Value promise = NewPromise(env, &d);
  SettleDeferred(env, d, true, Napi::Boolean::New(env, sent));
  return promise;
}

// setTimeout(ms): the core's deadline for every round trip (0: none).
Napi::Value Connection::JsSetTimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ms = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  if (pga_conn_set_timeout(conn_, ms) != PGA_OK) {
    Napi::RangeError::New(env, "timeout must be a number of milliseconds >= 0")
        .ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// setPrepareThreshold(n): a statement text is prepared at its n-th use on
// this session, 0 never (pgatomic.h "Prepared statements").
Napi::Value Connection::JsSetPrepareThreshold(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int n = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  if (pga_conn_set_prepare_threshold(conn_, n) != PGA_OK) {
    Napi::RangeError::New(env, "the prepare threshold must be a number >= 0")
        .ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// setBusyPoll(us): spin up to us microseconds for an answer before the
// loop sleeps, 0 never (pgatomic.h "Busy polling").
Napi::Value Connection::JsSetBusyPoll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int us = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  if (pga_conn_set_busy_poll(conn_, us) != PGA_OK) {
    Napi::RangeError::New(env, pga_conn_errmsg(conn_)).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

Napi::Value Connection::JsPreparedCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), pga_conn_prepared_count(conn_));
}

Napi::Value Connection::JsClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool had_op = op_ != Op::kNone;
  StopEndWatch();
  Shutdown();
  if (had_op) {
    // The operation will never finish now: settle it here, since no poll
    // callback will.
    ErrorExtra extra;
    extra.message = "Connection closed while an operation was in progress";
    op_ = Op::kNone;
    Settler settler = std::move(settler_);
    // op_context_ stays (one per connection): close() may run inside
    // Advance()'s callback scope, opened on it.
    settler.Reject(env, ErrorFromCore(env, addon_, conn_, PGA_ECLOSED, &extra));
    Unref();
  }
  return env.Undefined();
}

Napi::Value Connection::JsState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object state = Napi::Object::New(env);
  char status = pga_conn_txn_status(conn_);
  int depth = pga_atomic_depth(conn_);
  int rollback = depth > 0 ? pga_atomic_get_rollback(conn_) : 0;
  state.Set("open", Napi::Boolean::New(env, !closed_ && pga_conn_is_open(conn_)));
  state.Set("txnStatus", Napi::String::New(env, &status, 1));
  char engine = pga_conn_txn_state(conn_);
  state.Set("txnState", Napi::String::New(env, &engine, 1));
  state.Set("depth", Napi::Number::New(env, depth));
  state.Set("needsRollback", Napi::Boolean::New(env, rollback == 1));
  state.Set("busy", Napi::Boolean::New(env, op_ != Op::kNone));
  return state;
}

// reusable(): state()'s open && depth == 0 && txnStatus == 'I', as one
// boolean: the pool asks it on every release, and state() builds a
// six-property object with two strings each time.
Napi::Value Connection::JsReusable(const Napi::CallbackInfo& info) {
  bool ok = !closed_ && pga_conn_is_open(conn_) && pga_atomic_depth(conn_) == 0 &&
            pga_conn_txn_status(conn_) == 'I';
  return Napi::Boolean::New(info.Env(), ok);
}

Napi::Value Connection::JsRoundTrips(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(),
                           static_cast<double>(pga_conn_round_trips(conn_)));
}

Napi::Value Connection::JsDepth(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), pga_atomic_depth(conn_));
}

// probe(): whether an idle session is still usable.  pga_conn_probe()
// reads, without waiting, what the server sent meanwhile, and counts a
// FATAL received while idle as the session ending.
Napi::Value Connection::JsProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_ || op_ != Op::kNone) {
    return Napi::Boolean::New(env, !closed_ && pga_conn_is_open(conn_));
  }
  bool open = pga_conn_probe(conn_) == 1;
  ForgetClosedSocket();
  if (!open) {
    IdleEnded(env);  // as if the idle watch had seen it
  }
  return Napi::Boolean::New(env, open);
}

// hookAdd(depth, id): a token for a JS hook, kept by the core with the
// block at depth.  Returns the core's code (0, or PGA_EMISUSE when that
// block is not open).
Napi::Value Connection::JsHookAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "hookAdd(depth, id) needs two numbers").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  int depth = info[0].As<Napi::Number>().Int32Value();
  intptr_t id = static_cast<intptr_t>(info[1].As<Napi::Number>().Int64Value());
  pga_hook hook = {nullptr, reinterpret_cast<void*>(id), nullptr};
  return Napi::Number::New(env, pga_hook_add_at(conn_, depth, &hook));
}

// hookNext() -> [disposition, id] for the next ready hook, or null.
Napi::Value Connection::JsHookNext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pga_hook hook;
  int disposition = pga_hook_next(conn_, &hook);
  if (disposition == 0) {
    return env.Null();
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, disposition));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(reinterpret_cast<intptr_t>(hook.data))));
  return out;
}

// serverInfo() -> { pid, parameters: { name: value } }: the backend's
// process id and the settings the server reported at startup (libpq keeps
// them; pgatomic/pg shows them as pg's processID and parameterStatus).
// The pid is the BackendKeyData's signed int32 as sent, as pg reads it: a
// pooler's made-up one (PgBouncer's is random) is negative half the time.
// null only without a session (libpq's 0).
Napi::Value Connection::JsServerInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  static const char* const kReported[] = {
      "application_name",  "client_encoding",     "DateStyle",
      "default_transaction_read_only", "in_hot_standby", "integer_datetimes",
      "IntervalStyle",     "is_superuser",        "server_encoding",
      "server_version",    "session_authorization", "standard_conforming_strings",
      "TimeZone"};
  Napi::Object out = Napi::Object::New(env);
  Napi::Object params = Napi::Object::New(env);
  const PGconn* pg = static_cast<const PGconn*>(pga_conn_pgconn(conn_));
  int pid = pg != nullptr && !closed_ ? PQbackendPID(pg) : 0;
  out.Set("pid", pid != 0 ? Napi::Number::New(env, pid) : env.Null());
  for (const char* name : kReported) {
    const char* value = pg != nullptr && !closed_ ? PQparameterStatus(pg, name) : nullptr;
    if (value != nullptr) {
      params.Set(name, Napi::String::New(env, value));
    }
  }
  out.Set("parameters", params);
  return out;
}

// onNotify(fn): fn(channel, payload, pid) for each NOTIFY this session
// reads, after each operation and, between operations, as it arrives.
Napi::Value Connection::JsOnNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Napi::TypeError::New(env, "onNotify(fn) needs a function").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  notify_ = Napi::Persistent(info[0].As<Napi::Function>());
  // The context of the caller (the Database's creator) is the one the
  // listeners run in, as for an EventEmitter fed by a socket.
  notify_context_ = std::make_unique<Napi::AsyncContext>(env, "pgatomic.notification");
  if (op_ == Op::kNone) {
    WatchIdle();
  }
  return env.Undefined();
}

Napi::Value Connection::JsNotificationsDropped(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(pga_notifications_dropped(conn_)));
}

// onIdleEnd(fn | null): fn() once, when the server ends the session while
// no operation runs (a restart, pg_terminate_backend), as pg's socket
// notices it.  While set, the wrapper is kept alive by the watch.
Napi::Value Connection::JsOnIdleEnd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StopEndWatch();
  if (info.Length() > 0 && info[0].IsFunction()) {
    end_ = Napi::Persistent(info[0].As<Napi::Function>());
    end_context_ = std::make_unique<Napi::AsyncContext>(env, "pgatomic.idle");
    Ref();
    if (op_ == Op::kNone) {
      WatchIdle();
    }
  }
  return env.Undefined();
}

// refIdle(bool): pg's ref()/unref(): whether the idle watch keeps the
// process alive (it does not unless asked).
Napi::Value Connection::JsRefIdle(const Napi::CallbackInfo& info) {
  idle_ref_ = info.Length() > 0 && info[0].ToBoolean().Value();
  if (poll_ != nullptr && op_ == Op::kNone) {
    if (idle_ref_) {
      uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    }
  }
  return info.Env().Undefined();
}

void Connection::StopEndWatch() {
  if (end_.IsEmpty()) {
    return;
  }
  end_.Reset();
  end_context_.reset();
  if (op_ == Op::kNone && notify_.IsEmpty()) {
    StopWatching(false);
  }
  Unref();  // the watch's hold on the wrapper
}

void Connection::DeliverNotifications(Napi::Env env) {
  if (notify_.IsEmpty()) {
    return;  // the core's queue keeps them, bounded
  }
  pga_notification n;
  while (pga_notification_next(conn_, &n) == 1) {
    // Copied before the callback runs: it may use the connection, which
    // ends the loan of n's strings.
    Napi::String channel = Napi::String::New(env, n.channel);
    Napi::String payload = Napi::String::New(env, n.payload);
    notify_.Call({channel, payload, Napi::Number::New(env, n.pid)});
    if (env.IsExceptionPending()) {
      // node/lib's callback does not throw; if one did, it is uncaught.
      napi_fatal_exception(env, env.GetAndClearPendingException().Value());
    }
  }
}

bool Connection::Idling() const {
  return !notify_.IsEmpty() || !end_.IsEmpty();
}

// Between operations the socket stays registered (readable, unref'd so an
// idle session never holds the process): starting and stopping a uv_poll
// costs 3 epoll_ctl per round trip, which the next operation would pay
// again at once.  Without a LISTEN or end callback, anything that arrives
// while idle stops the watch (OnReady) and waits for the pool's probe.
void Connection::WatchIdle() {
  if (ForgetClosedSocket()) {
    return;
  }
  if (pga_stream_more(conn_)) {
    // Between a stream's batches the socket stays readable with rows that
    // only the next batch may read: watching it would spin.
    StopWatching(false);
    return;
  }
  if (poll_events_ == 0 && !Idling()) {
    return;  // readiness came while idle and was handed to the probe
  }
  if (Watch(PGA_WANT_READ) && !(idle_ref_ && Idling())) {
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
}

// The core closes the socket when the session ends (a lost connection, a
// FATAL read by a probe, a deadline): libuv must forget a registration of
// it before the number is reused by another session, whose uv_poll_init
// would answer EEXIST.  Called after every core call that may end it.
bool Connection::ForgetClosedSocket() {
  if (!closed_ && pga_conn_is_open(conn_) && pga_conn_socket(conn_) == poll_fd_) {
    return false;
  }
  StopWatching(false);
  return true;
}

void Connection::AfterOperation(Napi::Env env) {
  DeliverNotifications(env);
  if (op_ == Op::kNone) {
    WatchIdle();
  }
}

Napi::Value Connection::Begin(Napi::Env env, Op op, int start_rc, const ErrorExtra* extra,
                              Napi::Value callback) {
  if (start_rc < 0) {
    return Rejected(env, start_rc, extra, callback);
  }
  Napi::Value promise = env.Undefined();
  if (!callback.IsEmpty()) {
    settler_ = Settler::Callback(env, callback.As<Napi::Function>());
  } else {
    napi_deferred deferred;
    promise = NewPromise(env, &deferred);
    if (promise.IsEmpty()) {
      return promise;  // the environment is going away
    }
    settler_ = Settler::Promise(deferred);
  }
  op_ = op;
  int rc = pga_conn_step(conn_, 0);
  if (rc > 0) {
    if (Await(rc)) {
      // The settle runs JS (the promise's reactions) from a libuv callback,
      // which needs an async context: one per connection, made once.  One
      // per operation cost an async resource and its init hook per round
      // trip (the transactions' AsyncLocalStorage runs one in JS) for
      // nothing: the reactions run in the context their promises were
      // made in, whatever context settles them.  The reference keeps the
      // wrapper alive while libuv holds a pointer to it.
      if (!op_context_) {
        op_context_ = std::make_unique<Napi::AsyncContext>(env, "pgatomic.query");
      }
      Ref();
      return promise;
    }
    pga_conn_close(conn_);
    rc = PGA_ECONN;
  }
  Settle(env, rc);  // finished without waiting: we are still in JS
  AfterOperation(env);
  return promise;
}

Napi::Value Connection::Rejected(Napi::Env env, int rc, const ErrorExtra* extra,
                                 Napi::Value callback) {
  ForgetClosedSocket();
  Napi::Value err = ErrorFromCore(env, addon_, conn_, rc, extra);
  if (env.IsExceptionPending()) {
    err = env.GetAndClearPendingException().Value();
  }
  if (!callback.IsEmpty()) {
    Settler::Callback(env, callback.As<Napi::Function>()).Reject(env, err);
    return env.Undefined();
  }
  napi_deferred d;
  Napi::Value promise = NewPromise(env, &d);
  if (promise.IsEmpty()) {
    return promise;
  }
  SettleDeferred(env, d, false, err);
  return promise;
}

// The JS error for a core code; one the factory threw instead is the error.
Napi::Value Connection::CoreError(Napi::Env env, int rc) {
  Napi::Value err = ErrorFromCore(env, addon_, conn_, rc);
  if (env.IsExceptionPending()) {
    err = env.GetAndClearPendingException().Value();
  }
  return err;
}

bool Connection::Watch(int want) {
  if (addon_ == nullptr || closed_) {
    return false;
  }
  int fd = pga_conn_socket(conn_);
  if (fd < 0) {
    return false;
  }
  // While connecting libpq may close its socket and open another that gets
  // the same number; a fresh handle per step keeps epoll from watching a
  // stale registration (libuv poll.rst: one watcher per socket).
  if (poll_ != nullptr && (fd != poll_fd_ || op_ == Op::kConnect)) {
    StopWatching(true);
  }
  if (poll_ == nullptr) {
    poll_ = new uv_poll_t;
    if (uv_poll_init(addon_->loop, poll_, fd) != 0) {
      delete poll_;
      poll_ = nullptr;
      return false;
    }
    poll_->data = this;
    poll_fd_ = fd;
  }
  int events = 0;
  if (want & PGA_WANT_READ) {
    events |= UV_READABLE;
  }
  if (want & PGA_WANT_WRITE) {
    events |= UV_WRITABLE;
  }
  if (events != poll_events_) {
    if (uv_poll_start(poll_, events, OnReady) != 0) {
      poll_events_ = 0;
      return false;
    }
    poll_events_ = events;
  }
  // An operation waiting here keeps the process alive (WatchIdle undoes it).
  uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  return true;
}

void Connection::StopWatching(bool release) {
  if (poll_ == nullptr) {
    return;
  }
  uv_poll_stop(poll_);
  poll_events_ = 0;
  if (release) {
    // libuv may still reference the handle until its close callback runs,
    // which can be after this object is gone: the callback frees it.
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnPollClosed);
    poll_ = nullptr;
    poll_fd_ = -1;
  }
}

void Connection::OnPollClosed(uv_handle_t* handle) {
  delete reinterpret_cast<uv_poll_t*>(handle);
}

void Connection::OnReady(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<Connection*>(poll->data);
  if (self == nullptr) {
    return;
  }
  if (self->op_ == Op::kNone) {
    if (!self->Idling() || self->closed_) {
      self->StopWatching(false);  // readiness after the end: nothing to do
      return;
    }
    self->OnIdleReadable(status);
    return;
  }
  self->Advance(ReadyMask(status, events));
}

// Idle with a LISTEN or end callback: read what came (NOTIFYs, or the FATAL
// of a session the server ends) without waiting, and tell the callbacks.
void Connection::OnIdleReadable(int status) {
  Napi::Env env = Env();
  Napi::HandleScope handles(env);
  bool open = status >= 0 && pga_conn_probe(conn_) == 1;
  if (!notify_.IsEmpty()) {
    Napi::CallbackScope scope(env, *notify_context_);
    DeliverNotifications(env);
  }
  if (open || op_ != Op::kNone) {
    return;  // a listener may have started an operation
  }
  IdleEnded(env);
}

// The session ended while no operation ran: the watch stops and the
// onIdleEnd callback runs, once.
void Connection::IdleEnded(Napi::Env env) {
  if (poll_ != nullptr) {
    StopWatching(false);  // the pool's next probe finds it closed
  }
  if (end_.IsEmpty()) {
    return;
  }
  // Once: the watch is over before fn runs (it may close the connection).
  Napi::Function fn = end_.Value();
  std::unique_ptr<Napi::AsyncContext> context = std::move(end_context_);
  end_.Reset();
  fn.MakeCallback(env.Global(), {}, *context);
  if (env.IsExceptionPending()) {
    // As any callback's exception: the process's uncaughtException.
    napi_fatal_exception(env, env.GetAndClearPendingException().Value());
  }
  Unref();  // the watch's hold, kept while fn ran
}

// The core's deadline came: stepping acts on it (cancel, close, the next
// host of a list), so no clock lives here.
void Connection::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<Connection*>(timer->data);
  if (self == nullptr || self->op_ == Op::kNone) {
    return;
  }
  self->Advance(0);
}

void Connection::OnTimerClosed(uv_handle_t* handle) {
  delete reinterpret_cast<uv_timer_t*>(handle);
}

void Connection::Advance(int ready) {
  int rc = pga_conn_step(conn_, ready);
  if (rc > 0) {
    if (Await(rc)) {
      return;  // still waiting: no JS needed
    }
    pga_conn_close(conn_);
    rc = PGA_ECONN;
  }
  Napi::Env env = Env();
  Napi::HandleScope handles(env);
  if (!op_context_) {
    op_context_ = std::make_unique<Napi::AsyncContext>(env, "pgatomic.query");
  }
  {
    // Without a callback scope the promise's reactions (and so the rest of
    // the user's async function) would wait for some unrelated callback.
    Napi::CallbackScope scope(env, *op_context_);
    Settle(env, rc);
    AfterOperation(env);
  }
  Unref();
}

// Wait for what the step asked (the socket, the core's next deadline), and
// let the loop spin before it sleeps when the core allows it.
bool Connection::Await(int want) {
  if (!Watch(want) || !ArmTimer()) {
    return false;
  }
  if (pga_conn_busy_poll_left(conn_) > 0) {
    addon_->busy_poll.Start(addon_);  // failing to, it only sleeps sooner
  }
  return true;
}

// Arm (or disarm) the timer for the core's next deadline.
bool Connection::ArmTimer() {
  int ms = pga_conn_timeout_ms(conn_);
  if (ms < 0) {
    StopTimer(false);
    return true;
  }
  if (addon_ == nullptr) {
    return false;
  }
  if (timer_ == nullptr) {
    timer_ = new uv_timer_t;
    if (uv_timer_init(addon_->loop, timer_) != 0) {
      delete timer_;
      timer_ = nullptr;
      return false;
    }
    timer_->data = this;
    // A deadline alone never keeps the process alive: the poll does.
    uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
  }
  return uv_timer_start(timer_, OnTimer, static_cast<uint64_t>(ms), 0) == 0;
}

void Connection::StopTimer(bool release) {
  if (timer_ == nullptr) {
    return;
  }
  uv_timer_stop(timer_);
  if (release) {
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), OnTimerClosed);
    timer_ = nullptr;
  }
}

void Connection::Settle(Napi::Env env, int rc) {
  // The op is over before any JS runs: a reaction may start the next one.
  Op op = op_;
  op_ = Op::kNone;
  Settler settler = std::move(settler_);
  StopTimer(false);  // the poll stays: AfterOperation() makes it the idle watch
  if (op == Op::kExitOutcome) {
    // The exit's error first: reading the outcome's cause replaces the
    // error state.
    Napi::Value err = rc < 0 ? CoreError(env, rc) : Napi::Value();
    Napi::Value outcome = OutcomeObject(env);
    if (outcome.IsEmpty()) {
      err = env.GetAndClearPendingException().Value();
    }
    settler.Settle(env, err, outcome);
    return;
  }
  if (op == Op::kExitFlight) {
    // The exit's error first: reading the outcomes replaces the error state.
    Napi::Object out = Napi::Object::New(env);
    out.Set("error", rc < 0 ? CoreError(env, rc) : env.Null());
    bool any_failed = false;
    std::vector<PendingResult> pending;
    out.Set("outcomes", BatchOutcomes(env, &any_failed, &pending));
    // Last: the cause it may build replaces the error state again.
    Napi::Value outcome = OutcomeObject(env);
    if (outcome.IsEmpty()) {
      env.GetAndClearPendingException();
      outcome = env.Undefined();  // node/lib asks outcome() then
    }
    out.Set("outcome", outcome);
    SettleResults(env, addon_, std::move(settler), nullptr, std::move(pending), out);
    return;
  }
  if (op == Op::kBatch && pga_batch_size(conn_) > 0) {
    // Each statement has its own outcome; the step's code is only the
    // first failure.  A failure no statement carries (a lost RELEASE or
    // BEGIN reported as such) still rejects the whole batch below.
    bool any_failed = false;
    std::vector<PendingResult> pending;
    Napi::Value outcomes = BatchOutcomes(env, &any_failed, &pending);
    if (rc >= 0 || any_failed) {
      SettleResults(env, addon_, std::move(settler), nullptr, std::move(pending), outcomes);
      return;
    }
  }
  if (rc < 0) {
    settler.Reject(env, CoreError(env, rc));
    return;
  }
  if (op == Op::kStream) {
    SettleStreamBatch(env, std::move(settler));
    return;
  }
  Napi::Value value = env.Undefined();
  if (op == Op::kQuery && int8_mode_ == kResultRaw) {
    // pgatomic/pg: every result of a script, in order (pg's array of
    // results), each built into its place in the array.
    Napi::Array results = Napi::Array::New(env);
    std::vector<PendingResult> pending;
    for (pga_result* res; (res = pga_conn_take_result(conn_)) != nullptr;) {
      PendingResult p;
      p.builder = std::make_unique<ResultBuilder>(res, true, kResultRaw);
      p.slot = Napi::Persistent(static_cast<Napi::Object>(results));
      p.key = std::to_string(pending.size());
      pending.push_back(std::move(p));
    }
    SettleResults(env, addon_, std::move(settler), nullptr, std::move(pending), results);
    return;
  } else if (op == Op::kQuery) {
    // A script of several commands answers with its last result, as psql
    // does; pgatomic/pg returns them all (pga_conn_take_result's loop).
    pga_result* res = pga_conn_take_result(conn_);
    for (pga_result* next; (next = pga_conn_take_result(conn_)) != nullptr;) {
      pga_result_free(res);
      res = next;
    }
    value = env.Null();
    if (res != nullptr && !settler.Empty()) {
      std::vector<PendingResult> pending(1);
      pending[0].builder = std::make_unique<ResultBuilder>(res, true, int8_mode_);
      SettleResults(env, addon_, std::move(settler), nullptr, std::move(pending),
                    Napi::Value());
      return;
    }
    pga_result_free(res);
  }
  settler.Resolve(env, value);
}

// A stream's batch: { done, result }, the result built a slice at a time.
void Connection::SettleStreamBatch(Napi::Env env, Settler settler) {
  pga_result* res = pga_conn_take_result(conn_);
  if (settler.Empty()) {
    pga_result_free(res);
    return;
  }
  Napi::Object batch = Napi::Object::New(env);
  batch.Set("done", Napi::Boolean::New(env, pga_stream_more(conn_) == 0));
  batch.Set("result", env.Null());
  std::vector<PendingResult> pending;
  if (res != nullptr) {
    PendingResult p;
    p.builder = std::make_unique<ResultBuilder>(res, true, stream_mode_);
    p.slot = Napi::Persistent(batch);
    p.key = "result";  // a failure to build it rejects the promise
    pending.push_back(std::move(p));
  }
  SettleResults(env, addon_, std::move(settler), nullptr, std::move(pending), batch);
}

Napi::Value Connection::BatchOutcomes(Napi::Env env, bool* any_failed,
                                      std::vector<PendingResult>* pending) {
  int n = pga_batch_size(conn_);
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(n));
  for (int k = 0; k < n; k++) {
    Napi::Object o = Napi::Object::New(env);
    pga_result* res = nullptr;
    int orc = pga_batch_outcome(conn_, k, &res);
    if (orc < 0) {
      *any_failed = true;
      Napi::Value err = ErrorFromCore(env, addon_, conn_, orc);
      if (env.IsExceptionPending()) {
        err = env.GetAndClearPendingException().Value();
      }
      o.Set("ok", Napi::Boolean::New(env, false));
      o.Set("error", err);
    } else if (int8_mode_ == kResultRaw) {
      // pgatomic/pg: a statement's results as a query's, an array.
      Napi::Array results = Napi::Array::New(env);
      o.Set("ok", Napi::Boolean::New(env, true));
      o.Set("value", results);
      if (res != nullptr) {
        PendingResult p;
        p.builder = std::make_unique<ResultBuilder>(res, true, kResultRaw);
        p.slot = Napi::Persistent(static_cast<Napi::Object>(results));
        p.key = "0";
        pending->push_back(std::move(p));
      }
    } else {
      o.Set("ok", Napi::Boolean::New(env, true));
      o.Set("value", env.Null());
      if (res != nullptr) {
        // Built by SettleResults(), which fills in "value".
        PendingResult p;
        p.builder = std::make_unique<ResultBuilder>(res, true, int8_mode_);
        p.slot = Napi::Persistent(o);
        pending->push_back(std::move(p));
      }
    }
    out.Set(static_cast<uint32_t>(k), o);
  }
  return out;
}

bool Connection::EncodeParams(Napi::Env env, Napi::Value list) {
  pga_params_clear(params_);
  if (!list.IsArray()) {
    return true;
  }
  Napi::Array values = list.As<Napi::Array>();
  uint32_t n = values.Length();
  for (uint32_t i = 0; i < n; i++) {
    if (!AddParam(env, addon_, params_, values.Get(i), static_cast<int>(i))) {
      return false;
    }
  }
  return true;
}
