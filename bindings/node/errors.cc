// errors.cc -- turns a core failure into a JS error.
// Collects what the core knows (code name, message, SQLSTATE, kind, diag
// fields) into a plain object; node/lib/errors.js picks the class and the
// wording, so no Sequelize message is spelled in C++.
#include "addon.h"

namespace {

void SetIf(Napi::Env env, Napi::Object obj, const char* key, const char* value) {
  if (value != nullptr) {
    obj.Set(key, Napi::String::New(env, value));
  }
}

}  // namespace

Napi::Value ErrorFromCore(Napi::Env env, Addon* addon, const pga_conn* conn, int rc,
                          const ErrorExtra* extra) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("code", Napi::String::New(env, pga_err_name(rc)));
  info.Set("errno", Napi::Number::New(env, rc));
  const char* message = extra != nullptr ? extra->message : nullptr;
  if (message == nullptr && conn != nullptr) {
    message = pga_conn_errmsg(conn);
  }
  if (message == nullptr || message[0] == '\0') {
    message = pga_strerror(rc);
  }
  info.Set("message", Napi::String::New(env, message));
  if (extra != nullptr && extra->expected_params >= 0) {
    info.Set("expectedParams", Napi::Number::New(env, extra->expected_params));
    info.Set("givenParams", Napi::Number::New(env, extra->given_params));
  }
  // Whether the error state holds server facts, the error's own or its
  // cause's, is the core's decision (pga_conn_error_facts); lib/errors.js
  // puts a cause's on the cause.
  int facts = conn != nullptr ? pga_conn_error_facts(conn, rc) : PGA_FACTS_NONE;
  bool server = facts != PGA_FACTS_NONE;
  if (server) {
    info.Set("facts", Napi::String::New(env, facts == PGA_FACTS_OWN ? "own" : "cause"));
  }
  // The core's number for the error (pga_conn_error_seq): a later failure
  // whose cause it is names the same number, so JS can hand back this very
  // object.
  if (conn != nullptr && pga_conn_error_seq(conn) != 0) {
    info.Set("seq", Napi::Number::New(env, static_cast<double>(pga_conn_error_seq(conn))));
  }
  if (rc == PGA_EBROKEN && conn != nullptr) {
    info.Set("hasCause", Napi::Boolean::New(env, pga_conn_has_cause(conn) != 0));
  }
  if (server) {
    const char* sqlstate = pga_conn_sqlstate(conn);
    if (sqlstate != nullptr) {
      int kind = pga_conn_error_kind(conn);
      info.Set("sqlstate", Napi::String::New(env, sqlstate));
      info.Set("kind", Napi::String::New(env, pga_kind_name(kind)));
      info.Set("baseKind", Napi::String::New(env, pga_kind_name(pga_kind_base(kind))));
      SetIf(env, info, "primary", pga_conn_diag(conn, PGA_DIAG_MESSAGE_PRIMARY));
      SetIf(env, info, "detail", pga_conn_diag(conn, PGA_DIAG_DETAIL));
      SetIf(env, info, "hint", pga_conn_diag(conn, PGA_DIAG_HINT));
      SetIf(env, info, "schema", pga_conn_diag(conn, PGA_DIAG_SCHEMA_NAME));
      SetIf(env, info, "table", pga_conn_diag(conn, PGA_DIAG_TABLE_NAME));
      SetIf(env, info, "column", pga_conn_diag(conn, PGA_DIAG_COLUMN_NAME));
      SetIf(env, info, "constraint", pga_conn_diag(conn, PGA_DIAG_CONSTRAINT_NAME));
      SetIf(env, info, "severity", pga_conn_diag(conn, PGA_DIAG_SEVERITY));
      SetIf(env, info, "position", pga_conn_diag(conn, PGA_DIAG_STATEMENT_POSITION));
      SetIf(env, info, "internalPosition", pga_conn_diag(conn, PGA_DIAG_INTERNAL_POSITION));
      SetIf(env, info, "internalQuery", pga_conn_diag(conn, PGA_DIAG_INTERNAL_QUERY));
      SetIf(env, info, "where", pga_conn_diag(conn, PGA_DIAG_CONTEXT));
      SetIf(env, info, "dataType", pga_conn_diag(conn, PGA_DIAG_DATATYPE_NAME));
      SetIf(env, info, "file", pga_conn_diag(conn, PGA_DIAG_SOURCE_FILE));
      SetIf(env, info, "line", pga_conn_diag(conn, PGA_DIAG_SOURCE_LINE));
      SetIf(env, info, "routine", pga_conn_diag(conn, PGA_DIAG_SOURCE_FUNCTION));
    }
  }
  if (addon != nullptr && !addon->make_error.IsEmpty()) {
    Napi::Value err = addon->make_error.Call({info});
    if (!env.IsExceptionPending() && err.IsObject()) {
      return err;
    }
    if (env.IsExceptionPending()) {
      env.GetAndClearPendingException();
    }
  }
  // Before setup() (or if the factory failed) a plain Error still carries
  // the facts.
  Napi::Error fallback = Napi::Error::New(env, message);
  fallback.Value().Set("code", info.Get("code"));
  return fallback.Value();
}

Napi::Object CoreCodes(Napi::Env env) {
  Napi::Object codes = Napi::Object::New(env);
#define PGA_NODE_CODE(name, code, text) codes.Set(#name, Napi::Number::New(env, code));
  PGA_ERRNO_MAP(PGA_NODE_CODE)
#undef PGA_NODE_CODE
  return codes;
}

Napi::Array CoreKinds(Napi::Env env) {
  Napi::Array kinds = Napi::Array::New(env);
  for (int k = 0; k < PGA_KIND__COUNT; k++) {
    kinds.Set(static_cast<uint32_t>(k), Napi::String::New(env, pga_kind_name(k)));
  }
  return kinds;
}
