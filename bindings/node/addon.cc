// addon.cc -- module init: the per-environment Addon, the Connection class,
// and a cleanup hook that ends every session when the environment goes.
// The JS layer (node/lib/native.js) hands over the error factory once.
#include <dlfcn.h>
#include <libpq-fe.h>

#include "connection.h"

namespace {

// setup({ makeError, localDate, wallClockMs, makeDate, jsonParse,
// jsonStringify, rowFiller, objectPrototype }): called by node/lib/native.js each time it is loaded
// (jest loads it once per test file, each in a realm of its own).
Napi::Value JsSetup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* addon = env.GetInstanceData<Addon>();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "setup() needs an object").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Napi::Object opts = info[0].As<Napi::Object>();
  const char* fns[] = {"makeError", "localDate", "wallClockMs", "makeDate", "jsonParse",
                       "jsonStringify", "rowFiller"};
  Napi::FunctionReference* refs[] = {&addon->make_error, &addon->local_date,
                                     &addon->wall_clock_ms, &addon->make_date,
                                     &addon->json_parse, &addon->json_stringify,
                                     &addon->row_filler};
  Napi::Value proto = opts.Get("objectPrototype");
  for (const char* name : fns) {
    if (!opts.Get(name).IsFunction()) {
      Napi::TypeError::New(env, std::string("setup() needs the function ") + name)
          .ThrowAsJavaScriptException();
      return Napi::Value();
    }
  }
  if (!proto.IsObject()) {
    Napi::TypeError::New(env, "setup() needs objectPrototype").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    *refs[i] = Napi::Persistent(opts.Get(fns[i]).As<Napi::Function>());
  }
  addon->object_proto = Napi::Persistent(proto.As<Napi::Object>());
  return env.Undefined();
}

// parseConninfo(str): libpq's own parser (no network, no name lookup), so
// the JS layer can resolve host names asynchronously before connecting.
Napi::Value JsParseConninfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "connection string must be a string")
        .ThrowAsJavaScriptException();
    return Napi::Value();
  }
  std::string text = info[0].As<Napi::String>().Utf8Value();
  char* errmsg = nullptr;
  PQconninfoOption* opts = PQconninfoParse(text.c_str(), &errmsg);
  if (opts == nullptr) {
    std::string msg = errmsg != nullptr ? errmsg : "invalid connection string";
    if (errmsg != nullptr) {
      PQfreemem(errmsg);
    }
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
      msg.pop_back();
    }
    Napi::Error::New(env, msg).ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Napi::Object out = Napi::Object::New(env);
  for (PQconninfoOption* o = opts; o->keyword != nullptr; o++) {
    if (o->val != nullptr) {
      out.Set(o->keyword, Napi::String::New(env, o->val));
    }
  }
  PQconninfoFree(opts);
  return out;
}

// retryable(errno, sqlstate): the core's rule for re-running a failed
// outermost block (pga_retryable).
Napi::Value JsRetryable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  std::string sqlstate;
  bool have = info.Length() > 1 && info[1].IsString();
  if (have) {
    sqlstate = info[1].As<Napi::String>().Utf8Value();
  }
  return Napi::Boolean::New(env, pga_retryable(code, have ? sqlstate.c_str() : nullptr) != 0);
}

// retryDelayMs(attempt, baseMs, capMs, random32): pga_retry_delay_ms.
Napi::Value JsRetryDelayMs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  for (size_t i = 0; i < 4; i++) {
    if (info.Length() <= i || !info[i].IsNumber()) {
      Napi::TypeError::New(env, "retryDelayMs(attempt, baseMs, capMs, random) needs four numbers")
          .ThrowAsJavaScriptException();
      return Napi::Value();
    }
  }
  int ms = pga_retry_delay_ms(info[0].As<Napi::Number>().Int32Value(),
                              info[1].As<Napi::Number>().Int32Value(),
                              info[2].As<Napi::Number>().Int32Value(),
                              info[3].As<Napi::Number>().Uint32Value());
  return Napi::Number::New(env, ms);
}

void Cleanup(Addon* addon) {
  // Workers and process exit: end every session (never blocks) and cut the
  // wrappers loose, since their finalizers may run after the Addon is gone.
  for (Connection* conn : addon->connections) {
    conn->Shutdown();
    conn->Detach();
  }
  addon->connections.clear();
  StopSliceJobs(addon);
  addon->busy_poll.Close();
  addon->torn_down = true;
}

// A worker's environment may unload the addon before its loop has run the
// close callbacks of our uv_poll handles (seen as a crash in
// uv__finish_close on worker.terminate()).  Pinning the library keeps that
// code mapped for the life of the process.
void PinLibrary() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&PinLibrary), &info) != 0 && info.dli_fname != nullptr) {
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  PinLibrary();
  auto* addon = new Addon();
  env.SetInstanceData<Addon>(addon);
  if (napi_get_uv_event_loop(env, &addon->loop) != napi_ok) {
    Napi::Error::New(env, "pgatomic: no event loop").ThrowAsJavaScriptException();
    return exports;
  }
  env.AddCleanupHook(Cleanup, addon);

  exports.Set("Connection", Connection::Define(env, addon));
  exports.Set("setup", Napi::Function::New(env, JsSetup, "setup"));
  exports.Set("parseConninfo", Napi::Function::New(env, JsParseConninfo, "parseConninfo"));
  exports.Set("retryable", Napi::Function::New(env, JsRetryable, "retryable"));
  exports.Set("retryDelayMs", Napi::Function::New(env, JsRetryDelayMs, "retryDelayMs"));
  exports.Set("HOOK_RUN", Napi::Number::New(env, PGA_HOOK_RUN));
  exports.Set("HOOK_DROP", Napi::Number::New(env, PGA_HOOK_DROP));
  exports.Set("RESULT_RAW", Napi::Number::New(env, kResultRaw));
  exports.Set("codes", CoreCodes(env));
  exports.Set("kinds", CoreKinds(env));
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("SAVEPOINT", Napi::Number::New(env, PGA_SAVEPOINT));
  flags.Set("ISO_READ_UNCOMMITTED", Napi::Number::New(env, PGA_ISO_READ_UNCOMMITTED));
  flags.Set("ISO_READ_COMMITTED", Napi::Number::New(env, PGA_ISO_READ_COMMITTED));
  flags.Set("ISO_REPEATABLE_READ", Napi::Number::New(env, PGA_ISO_REPEATABLE_READ));
  flags.Set("ISO_SERIALIZABLE", Napi::Number::New(env, PGA_ISO_SERIALIZABLE));
  flags.Set("READ_ONLY", Napi::Number::New(env, PGA_READ_ONLY));
  flags.Set("READ_WRITE", Napi::Number::New(env, PGA_READ_WRITE));
  flags.Set("DEFERRABLE", Napi::Number::New(env, PGA_DEFERRABLE));
  flags.Set("NOT_DEFERRABLE", Napi::Number::New(env, PGA_NOT_DEFERRABLE));
  flags.Set("PIPELINE", Napi::Number::New(env, PGA_PIPELINE));
  exports.Set("flags", flags);
  return exports;
}

}  // namespace

NODE_API_MODULE(pgatomic, Init)
