// addon.h -- per-environment state shared by the binding's files.
// Owns nothing of the transaction logic: that is the core's; the JS layer
// (node/) owns the Sequelize-shaped API and the error classes.
#ifndef PGATOMIC_NODE_ADDON_H
#define PGATOMIC_NODE_ADDON_H

#include <napi.h>
#include <uv.h>

#include <string>
#include <unordered_set>

extern "C" {
#include "pgatomic.h"
}

class Connection;

// One per Node environment (main thread, each worker): node-addon-api's
// addon.md explains why statics would be shared across workers and break.
struct Addon {
  uv_loop_t* loop = nullptr;
  Napi::FunctionReference connection_ctor;
  // Handed over by node/lib/native.js: the error factory picks the JS class
  // (errors.js), localDate builds Dates in the process's time zone.  JSON,
  // Date and Object.prototype come from the caller's realm too: under jest
  // (vm contexts) the main realm's TypeError or Date would fail instanceof.
  Napi::FunctionReference make_error;
  Napi::FunctionReference local_date;
  Napi::FunctionReference make_date;
  Napi::FunctionReference json_parse;
  Napi::FunctionReference json_stringify;
  Napi::ObjectReference object_proto;
  std::unordered_set<Connection*> connections;
  bool torn_down = false;
};

// int8 columns as the Database's `types.int8` option says.
enum Int8Mode { kInt8String = 0, kInt8BigInt = 1, kInt8Number = 2 };

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
