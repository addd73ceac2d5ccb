// addon.h -- per-environment state shared by the binding's files.
// Owns nothing of the transaction logic: that is the core's; the JS layer
// (node/) owns the Sequelize-shaped API and the error classes.
#ifndef PGATOMIC_NODE_ADDON_H
#define PGATOMIC_NODE_ADDON_H

#include <napi.h>
#include <uv.h>

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

extern "C" {
#include "pgatomic.h"
}

class Connection;
struct SliceJob;  // settle.cc
struct Addon;

// busypoll.cc: spins before the loop sleeps while a connection awaits an
// answer the core lets it spin for (pgatomic.h "Busy polling").  Start()
// after sending a round trip; it stops itself when nobody awaits one.
class BusyPoll {
 public:
  void Start(Addon* addon);
  void Close();  // the environment is going away

 private:
  uv_prepare_t* prepare_ = nullptr;  // heap: freed only in its close callback
};

// One per Node environment (main thread, each worker): node-addon-api's
// addon.md explains why statics would be shared across workers and break.
struct Addon {
  uv_loop_t* loop = nullptr;
  Napi::FunctionReference connection_ctor;
  // Handed over by node/lib/native.js: the error factory picks the JS class
  // (errors.js), localDate builds Dates in the process's time zone and
  // wallClockMs reads one's local fields, rowFiller makes result rows.  JSON,
  // Date and Object.prototype come from the caller's realm too: under jest
  // (vm contexts) the main realm's TypeError or Date would fail instanceof.
  Napi::FunctionReference make_error;
  Napi::FunctionReference local_date;
  Napi::FunctionReference wall_clock_ms;
  Napi::FunctionReference make_date;
  Napi::FunctionReference row_filler;
  Napi::FunctionReference json_parse;
  Napi::FunctionReference json_stringify;
  Napi::ObjectReference object_proto;
  std::unordered_set<Connection*> connections;
  std::unordered_set<SliceJob*> jobs;  // results being decoded (settle.cc)
  BusyPoll busy_poll;
  bool torn_down = false;
};

// int8 columns as the Database's `types.int8` option says.
enum Int8Mode { kInt8String = 0, kInt8BigInt = 1, kInt8Number = 2 };
// Not an int8 mode: results undecoded, for pgatomic/pg, whose users' type
// parsers decide.  ResultBuilder then builds { tag, fields: [{ name,
// dataTypeID }], rows: [[text | null, ...]] }, the server's text as it came.
constexpr int kResultRaw = 3;

// convert.cc
// Adds one JS value to params.  On failure returns false with a JS
// exception pending (a TypeError for unsupported values, or the error
// JSON.stringify threw).
bool AddParam(Napi::Env env, Addon* addon, pga_params* params, Napi::Value value,
              int index);
// Builds { command, rowCount, rows, fields } from a result.  Returns an
// empty value with a JS exception pending on failure.
Napi::Value ResultToJs(Napi::Env env, Addon* addon, const pga_result* res,
                       int int8_mode);

// The same object built a slice at a time, so a big result never holds the
// event loop for long (settle.cc drives it): Start() makes the frame with
// an empty rows array, Step() decodes rows until done or until the
// uv_hrtime() deadline passes, Finish() hands the object over.
class ResultBuilder {
 public:
  ResultBuilder(pga_result* res, bool owns, int int8_mode);
  ~ResultBuilder();
  ResultBuilder(const ResultBuilder&) = delete;
  ResultBuilder& operator=(const ResultBuilder&) = delete;

  // false: a JS exception is pending.
  bool Start(Napi::Env env, Addon* addon);
  // 1: every row is built; 0: the deadline came first (0 means none);
  // -1: a JS exception is pending.
  int Step(Napi::Env env, Addon* addon, uint64_t deadline_ns);
  Napi::Value Finish(Napi::Env env);
  void Detach();

 private:
  int StepRaw(Napi::Env env, uint64_t deadline_ns);

  pga_result* res_;
  bool owns_;
  int int8_mode_;
  int nrows_ = 0;
  int ncols_ = 0;
  int next_ = 0;
  std::vector<unsigned> oids_, elem_oids_;
  std::vector<int> kinds_;
  Napi::ObjectReference out_;
  Napi::Reference<Napi::Array> rows_;
  Napi::FunctionReference fill_;        // rowFiller()'s function for these columns
  // One slice's cells, row after row, as rowFiller() reads them: JS values,
  // numbers and tags (convert.cc CellTag); the buffers are fill_'s.
  Napi::Reference<Napi::Array> cells_;
  double* nums_ = nullptr;
  uint8_t* tags_ = nullptr;
};

// settle.cc
// Where an operation's outcome goes: a promise's deferred, or a callback
// fn(err, value) from node/lib, which costs no promise and no microtask
// hop (each promise pays the AsyncLocalStorage hooks of the transactions:
// docs/benchmarks.md, "Node's per-call cost").  Settled at most once;
// movable, not copyable.
class Settler {
 public:
  Settler() = default;
  static Settler Promise(napi_deferred deferred);
  // fn(err, value): err null on success.  fn must not throw; if it does,
  // the exception is the process's uncaughtException.
  static Settler Callback(Napi::Env env, Napi::Function fn);
  Settler(Settler&& other) noexcept;
  Settler& operator=(Settler&& other) noexcept;
  Settler(const Settler&) = delete;
  Settler& operator=(const Settler&) = delete;
  ~Settler();

  bool Empty() const { return deferred_ == nullptr && callback_ == nullptr; }
  bool IsCallback() const { return callback_ != nullptr; }
  void Resolve(Napi::Env env, Napi::Value value);
  void Reject(Napi::Env env, Napi::Value error);
  // A callback given both (exit's error and its outcome); a promise
  // rejects with error when there is one, else resolves with value.
  void Settle(Napi::Env env, Napi::Value error, Napi::Value value);
  // The environment is going away: touch nothing of it again.
  void Forget();

 private:
  void Release();

  napi_env env_ = nullptr;
  napi_deferred deferred_ = nullptr;
  napi_ref callback_ = nullptr;
};

// One result owed to a promise: the builder, and the batch outcome object
// whose "value" it becomes (empty: the promise resolves with it alone).
struct PendingResult {
  std::unique_ptr<ResultBuilder> builder;
  Napi::ObjectReference slot;
  // Where in slot the result goes when not "value": an index of an array
  // of results (pgatomic/pg's script results).  A failure to build it then
  // rejects the promise.
  std::string key;
};
// Settles with the results once all are built: at once when they take
// less than a slice, else over later loop turns, the reactions then
// running in context (made here when null).  resolved is the batch's
// outcomes array, or empty for a single result.
void SettleResults(Napi::Env env, Addon* addon, Settler settler,
                   std::unique_ptr<Napi::AsyncContext> context,
                   std::vector<PendingResult> pending, Napi::Value resolved);
// Environment teardown: drop every unfinished job without touching JS.
void StopSliceJobs(Addon* addon);

// errors.cc
// Extra facts a caller knows about a failure that the connection does not.
struct ErrorExtra {
  const char* message = nullptr;  // overrides pga_conn_errmsg()
  int expected_params = -1;       // PGA_EPARAMCOUNT
  int given_params = -1;
};
// The JS error for a core failure code, built by the JS factory so the
// class and wording live in node/lib/errors.js.
Napi::Value ErrorFromCore(Napi::Env env, Addon* addon, const pga_conn* conn, int rc,
                          const ErrorExtra* extra = nullptr);
// The tables a test compares with PGA_ERRNO_MAP and PGA_KIND_MAP.
Napi::Object CoreCodes(Napi::Env env);
Napi::Array CoreKinds(Napi::Env env);

#endif
