// connection.h -- one pga_conn driven by libuv: starters return promises,
// a uv_poll on the core's socket steps the operation to its end.
// Leaves queueing (one operation at a time) and all policy to node/lib.
#ifndef PGATOMIC_NODE_CONNECTION_H
#define PGATOMIC_NODE_CONNECTION_H

#include <memory>

#include "addon.h"

class Connection : public Napi::ObjectWrap<Connection> {
 public:
  static Napi::Function Define(Napi::Env env, Addon* addon);

  explicit Connection(const Napi::CallbackInfo& info);
  ~Connection() override;

  // Stops watching and ends the session; used by close() and by the
  // environment's cleanup hook.  Never blocks.
  void Shutdown();
  // The environment is going away: forget everything that would need it.
  void Detach();
  // For the addon's busy poll: how long the core lets a driver spin for
  // this connection's answer (microseconds, 0: not awaiting one, or sleep),
  // and the socket to poll meanwhile.
  int BusyPollLeft() const {
    return op_ != Op::kNone && conn_ != nullptr ? pga_conn_busy_poll_left(conn_) : 0;
  }
  int Socket() const { return poll_fd_; }

 private:
  // kStream: one batch of a stream (pga_stream_*); between batches op_ is
  // kNone but the core keeps the connection for the stream.
  // kExitOutcome: exit(failed, cb), settled with the block's outcome.
  enum class Op {
    kNone, kConnect, kQuery, kBatch, kExit, kExitOutcome, kExitFlight, kStream, kStreamClose
  };

  // JS-facing methods.
  Napi::Value JsConnect(const Napi::CallbackInfo& info);
  Napi::Value JsQuery(const Napi::CallbackInfo& info);
  Napi::Value JsBatch(const Napi::CallbackInfo& info);
  Napi::Value JsStreamStart(const Napi::CallbackInfo& info);
  Napi::Value JsStreamNext(const Napi::CallbackInfo& info);
  Napi::Value JsStreamClose(const Napi::CallbackInfo& info);
  Napi::Value JsEnter(const Napi::CallbackInfo& info);
  Napi::Value JsExit(const Napi::CallbackInfo& info);
  Napi::Value JsQueue(const Napi::CallbackInfo& info);
  bool StatementArgs(const Napi::CallbackInfo& info, std::string* sql);
  Napi::Value JsPipelineSync(const Napi::CallbackInfo& info);
  Napi::Value JsExitFlight(const Napi::CallbackInfo& info);
  Napi::Value JsPipelineQueued(const Napi::CallbackInfo& info);
  Napi::Value JsPipelineActive(const Napi::CallbackInfo& info);
  Napi::Value JsCancel(const Napi::CallbackInfo& info);
  Napi::Value JsSetTimeout(const Napi::CallbackInfo& info);
  Napi::Value JsSetPrepareThreshold(const Napi::CallbackInfo& info);
  Napi::Value JsSetBusyPoll(const Napi::CallbackInfo& info);
  Napi::Value JsPreparedCount(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);
  Napi::Value JsState(const Napi::CallbackInfo& info);
  Napi::Value JsReusable(const Napi::CallbackInfo& info);
  Napi::Value JsRoundTrips(const Napi::CallbackInfo& info);
  Napi::Value JsDepth(const Napi::CallbackInfo& info);
  Napi::Value JsProbe(const Napi::CallbackInfo& info);
  Napi::Value JsHookAdd(const Napi::CallbackInfo& info);
  Napi::Value JsHookNext(const Napi::CallbackInfo& info);
  Napi::Value JsSetSqlControls(const Napi::CallbackInfo& info);
  Napi::Value JsSavepoint(const Napi::CallbackInfo& info);
  Napi::Value JsReleaseSavepoint(const Napi::CallbackInfo& info);
  Napi::Value JsRollbackToSavepoint(const Napi::CallbackInfo& info);
  Napi::Value JsSetTxnOptions(const Napi::CallbackInfo& info);
  Napi::Value JsSetAutocommit(const Napi::CallbackInfo& info);
  Napi::Value JsPrepare(const Napi::CallbackInfo& info);
  Napi::Value JsCommitPrepared(const Napi::CallbackInfo& info);
  Napi::Value JsRollbackPrepared(const Napi::CallbackInfo& info);
  Napi::Value JsListPrepared(const Napi::CallbackInfo& info);
  Napi::Value JsSettlePrepared(const Napi::CallbackInfo& info);
  Napi::Value JsOutcome(const Napi::CallbackInfo& info);
  bool Check(Napi::Env env, int rc);
  Napi::Value GidOp(const Napi::CallbackInfo& info, int (*start)(pga_conn*, const char*));
  Napi::Value JsServerInfo(const Napi::CallbackInfo& info);
  Napi::Value JsOnNotify(const Napi::CallbackInfo& info);
  Napi::Value JsNotificationsDropped(const Napi::CallbackInfo& info);
  Napi::Value JsOnIdleEnd(const Napi::CallbackInfo& info);
  Napi::Value JsRefIdle(const Napi::CallbackInfo& info);

  // Driving one operation.  callback: a function fn(err, value) to settle
  // instead of a promise (then these return undefined), or empty.
  template <typename Start>
  Napi::Value StartIfIdle(Napi::Env env, Op op, Napi::Value callback, Start start);
  Napi::Value Begin(Napi::Env env, Op op, int start_rc, const ErrorExtra* extra,
                    Napi::Value callback);
  Napi::Value Rejected(Napi::Env env, int rc, const ErrorExtra* extra, Napi::Value callback);
  Napi::Value CoreError(Napi::Env env, int rc);
  Napi::Value OutcomeObject(Napi::Env env);
  bool Watch(int want);
  void StopWatching(bool release);
  static void OnPollClosed(uv_handle_t* handle);
  static void OnReady(uv_poll_t* poll, int status, int events);
  static void OnTimer(uv_timer_t* timer);
  static void OnTimerClosed(uv_handle_t* handle);
  void Advance(int ready);
  bool ArmTimer();
  bool Await(int want);
  void StopTimer(bool release);
  void Settle(Napi::Env env, int rc);
  Napi::Value BatchOutcomes(Napi::Env env, bool* any_failed,
                            std::vector<PendingResult>* pending);
  void SettleStreamBatch(Napi::Env env, Settler settler);
  bool EncodeParams(Napi::Env env, Napi::Value list);
  // LISTEN: hand what the core queued to the JS callback; between
  // operations watch the socket for more, without holding the loop open.
  void AfterOperation(Napi::Env env);
  void DeliverNotifications(Napi::Env env);
  void WatchIdle();
  bool Idling() const;
  void OnIdleReadable(int status);
  void IdleEnded(Napi::Env env);
  void StopEndWatch();
  bool ForgetClosedSocket();

  Addon* addon_;
  pga_conn* conn_ = nullptr;
  pga_params* params_ = nullptr;
  uv_poll_t* poll_ = nullptr;  // heap: freed only in its close callback
  int poll_fd_ = -1;
  int poll_events_ = 0;  // UV_READABLE/UV_WRITABLE started on poll_, 0: stopped
  // The core's next deadline (pga_conn_timeout_ms): connect_timeout, the
  // statement timeout, a cancel in flight.  Heap, like poll_.
  uv_timer_t* timer_ = nullptr;
  Op op_ = Op::kNone;
  int int8_mode_ = kInt8String;
  int stream_mode_ = kInt8String;  // how the open stream's batches are built
  // The running operation's promise or callback.  A raw napi_deferred in
  // it: node-addon-api's Deferred leaves its promise uninitialised when
  // creation fails, as it does while a worker is being terminated, and
  // returning that to V8 crashes.
  Settler settler_;
  std::unique_ptr<Napi::AsyncContext> op_context_;
  Napi::FunctionReference notify_;  // onNotify(fn): (channel, payload, pid)
  std::unique_ptr<Napi::AsyncContext> notify_context_;
  // onIdleEnd(fn): fn() when the server ends the session between
  // operations (pgatomic/pg's 'error' and 'end', as pg's socket).
  // idle_ref_ is pg's ref()/unref() for the idle watch.
  Napi::FunctionReference end_;
  std::unique_ptr<Napi::AsyncContext> end_context_;
  bool idle_ref_ = false;
  bool closed_ = false;
};

#endif
