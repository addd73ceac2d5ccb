// settle.cc -- settling a promise with results that may be big.  Rows are
// decoded on the loop thread (V8 objects can be made nowhere else) in
// slices of a few milliseconds; between slices an idle handle gives the
// loop back to timers and I/O, so a million rows never hold it for seconds.
#include "addon.h"

struct SliceJob {
  napi_env env = nullptr;
  Addon* addon = nullptr;
  Settler settler;
  std::unique_ptr<Napi::AsyncContext> context;
  std::vector<PendingResult> pending;
  size_t next = 0;               // pending[next] is being built
  bool started = false;          // pending[next] had its Start()
  Napi::Reference<Napi::Value> resolved;  // the batch's outcomes, if any
  uv_idle_t* idle = nullptr;     // heap: freed in its close callback
};

Settler Settler::Promise(napi_deferred deferred) {
  Settler s;
  s.deferred_ = deferred;
  return s;
}

Settler Settler::Callback(Napi::Env env, Napi::Function fn) {
  Settler s;
  s.env_ = env;
  if (napi_create_reference(env, fn, 1, &s.callback_) != napi_ok) {
    s.callback_ = nullptr;
  }
  return s;
}

Settler::Settler(Settler&& other) noexcept
    : env_(other.env_), deferred_(other.deferred_), callback_(other.callback_) {
  other.deferred_ = nullptr;
  other.callback_ = nullptr;
}

Settler& Settler::operator=(Settler&& other) noexcept {
  if (this != &other) {
    Release();
    env_ = other.env_;
    deferred_ = other.deferred_;
    callback_ = other.callback_;
    other.deferred_ = nullptr;
    other.callback_ = nullptr;
  }
  return *this;
}

Settler::~Settler() {
  Release();
}

// An unsettled promise is left to the garbage collector; a callback's
// reference is dropped.
void Settler::Release() {
  if (callback_ != nullptr) {
    napi_delete_reference(env_, callback_);
    callback_ = nullptr;
  }
  deferred_ = nullptr;
}

void Settler::Forget() {
  deferred_ = nullptr;
  callback_ = nullptr;
}

void Settler::Resolve(Napi::Env env, Napi::Value value) {
  Settle(env, Napi::Value(), value);
}

void Settler::Reject(Napi::Env env, Napi::Value error) {
  Settle(env, error.IsEmpty() ? env.Undefined() : error, Napi::Value());
}

void Settler::Settle(Napi::Env env, Napi::Value error, Napi::Value value) {
  napi_value v = value.IsEmpty() ? env.Undefined() : value;
  if (deferred_ != nullptr) {
    napi_deferred d = deferred_;
    deferred_ = nullptr;
    if (!error.IsEmpty()) {
      napi_reject_deferred(env, d, error);
    } else {
      napi_resolve_deferred(env, d, v);
    }
    return;
  }
  if (callback_ == nullptr) {
    return;
  }
  napi_value fn = nullptr;
  napi_get_reference_value(env, callback_, &fn);
  Release();  // settled once, even if fn starts the next operation
  if (fn == nullptr) {
    return;
  }
  napi_value args[2] = {error.IsEmpty() ? static_cast<napi_value>(env.Null())
                                        : static_cast<napi_value>(error),
                        v};
  napi_value ignored;
  if (napi_call_function(env, env.Undefined(), fn, 2, args, &ignored) != napi_ok &&
      env.IsExceptionPending()) {
    napi_fatal_exception(env, env.GetAndClearPendingException().Value());
  }
}

namespace {

// How long one slice may hold the loop.
constexpr uint64_t kSliceNs = 8 * 1000 * 1000;

void OnIdleClosed(uv_handle_t* handle) {
  delete reinterpret_cast<uv_idle_t*>(handle);
}

// A result that could not be built: a batch outcome says so, a single
// result rejects the whole promise (returns false).
bool Failed(Napi::Env env, SliceJob* job) {
  Napi::Value err = env.GetAndClearPendingException().Value();
  PendingResult& p = job->pending[job->next];
  if (p.slot.IsEmpty() || !p.key.empty()) {
    job->settler.Reject(env, err);
    return false;
  }
  Napi::Object slot = p.slot.Value();
  slot.Set("ok", Napi::Boolean::New(env, false));
  slot.Set("error", err);
  return true;
}

// Builds until done (true) or the slice is over (false).  A rejected
// promise counts as done.
bool Drive(Napi::Env env, SliceJob* job) {
  uint64_t deadline = uv_hrtime() + kSliceNs;
  while (job->next < job->pending.size()) {
    PendingResult& p = job->pending[job->next];
    int rc = 1;
    if (!job->started) {
      job->started = true;
      rc = p.builder->Start(env, job->addon) ? 1 : -1;
    }
    if (rc > 0) {
      rc = p.builder->Step(env, job->addon, deadline);
    }
    if (rc == 0) {
      return false;
    }
    if (rc < 0) {
      if (!Failed(env, job)) {
        return true;
      }
    } else if (!p.slot.IsEmpty()) {
      p.slot.Value().Set(p.key.empty() ? "value" : p.key, p.builder->Finish(env));
      p.builder.reset();
    }
    // A single result's builder stays for Resolve() to take its object.
    job->next++;
    job->started = false;
  }
  return true;
}

void Resolve(Napi::Env env, SliceJob* job) {
  if (job->settler.Empty()) {
    return;  // rejected already
  }
  Napi::Value value = env.Null();
  if (!job->resolved.IsEmpty()) {
    value = job->resolved.Value();
  } else if (!job->pending.empty() && job->pending[0].builder) {
    value = job->pending[0].builder->Finish(env);
  }
  job->settler.Resolve(env, value);
}

void OnIdle(uv_idle_t* idle) {
  auto* job = static_cast<SliceJob*>(idle->data);
  Napi::Env env(job->env);
  Napi::HandleScope handles(env);
  if (!Drive(env, job)) {
    return;  // the next slice comes with the next loop turn
  }
  uv_idle_stop(idle);
  uv_close(reinterpret_cast<uv_handle_t*>(idle), OnIdleClosed);
  job->addon->jobs.erase(job);
  {
    // As in Connection::OnReady: the promise's reactions run when this
    // scope closes, in the context of the call that started the query.
    Napi::CallbackScope scope(env, *job->context);
    Resolve(env, job);
  }
  delete job;
}

}  // namespace

void SettleResults(Napi::Env env, Addon* addon, Settler settler,
                   std::unique_ptr<Napi::AsyncContext> context,
                   std::vector<PendingResult> pending, Napi::Value resolved) {
  auto job = std::make_unique<SliceJob>();
  job->env = env;
  job->addon = addon;
  job->settler = std::move(settler);
  job->pending = std::move(pending);
  if (!resolved.IsEmpty()) {
    job->resolved = Napi::Persistent(resolved);
  }
  if (Drive(env, job.get())) {
    Resolve(env, job.get());
    return;
  }
  job->idle = new uv_idle_t;
  if (uv_idle_init(addon->loop, job->idle) != 0) {
    delete job->idle;
    Napi::Error::New(env, "pgatomic: cannot schedule result decoding").ThrowAsJavaScriptException();
    job->settler.Reject(env, env.GetAndClearPendingException().Value());
    return;
  }
  job->idle->data = job.get();
  if (!context) {
    context = std::make_unique<Napi::AsyncContext>(env, "pgatomic.decode");
  }
  job->context = std::move(context);
  uv_idle_start(job->idle, OnIdle);
  addon->jobs.insert(job.release());
}

void StopSliceJobs(Addon* addon) {
  for (SliceJob* job : addon->jobs) {
    uv_idle_stop(job->idle);
    uv_close(reinterpret_cast<uv_handle_t*>(job->idle), OnIdleClosed);
    // As in Connection::Detach: nothing of a dying environment is touched.
    for (PendingResult& p : job->pending) {
      if (p.builder) {
        p.builder->Detach();
      }
      p.slot.SuppressDestruct();
    }
    job->resolved.SuppressDestruct();
    job->settler.Forget();
    job->context.release();
    delete job;
  }
  addon->jobs.clear();
}
