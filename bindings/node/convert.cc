// convert.cc -- JS values to pga_params, pga_result to JS rows.
// Says only what a value is; encoding and text parsing are the core's
// (params.c, value.c).  Type choices follow API.md section 2.1.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "addon.h"

namespace {

// Type OIDs the type table treats apart from their pga_type_kind().
constexpr unsigned kOidInt8 = 20;

constexpr int64_t kMsPerDay = 86400000;

// Days since 1970-01-01 of a proleptic Gregorian date, valid for every
// year; Date.UTC() would map years 0..99 to 1900..1999.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

const char* TypeName(Napi::Value v) {
  switch (v.Type()) {
    case napi_symbol:
      return "symbol";
    case napi_function:
      return "function";
    case napi_external:
      return "external";
    default:
      return "object";
  }
}

// Raised through the JS factory (EPARAM -> TypeError) so the class comes
// from the caller's realm.
bool ThrowParamError(Napi::Env env, Addon* addon, const std::string& msg) {
  ErrorExtra extra;
  extra.message = msg.c_str();
  Napi::Value err = ErrorFromCore(env, addon, nullptr, PGA_EPARAM, &extra);
  if (!env.IsExceptionPending()) {
    napi_throw(env, err);
  }
  return false;
}

bool ThrowUnsupported(Napi::Env env, Addon* addon, Napi::Value v, int index,
                      const char* why) {
  std::string msg = "Cannot bind parameter $" + std::to_string(index + 1) + ": ";
  if (why != nullptr) {
    msg += why;
  } else {
    msg += std::string("unsupported value of type ") + TypeName(v);
  }
  return ThrowParamError(env, addon, msg);
}

bool Check(Napi::Env env, Addon* addon, const pga_params* params, int rc, int index) {
  if (rc == PGA_OK) {
    return true;
  }
  std::string msg = "Cannot bind parameter $" + std::to_string(index + 1) + ": ";
  msg += rc == PGA_ENOMEM ? "out of memory" : pga_params_errmsg(params);
  return ThrowParamError(env, addon, msg);
}

bool IsJsonObject(Napi::Env env, Addon* addon, Napi::Object obj) {
  napi_value proto;
  if (napi_get_prototype(env, obj, &proto) != napi_ok) {
    return false;
  }
  Napi::Value p(env, proto);
  if (p.IsNull() || p.StrictEquals(addon->object_proto.Value())) {
    return true;
  }
  // Objects that say how they serialise (toJSON) are JSON too; other class
  // instances (Map, Set, ...) would silently become "{}", so they are refused.
  return obj.Get("toJSON").IsFunction();
}

// True when a JS string holds an unpaired UTF-16 surrogate, which has no
// UTF-8 form.  Only called when the UTF-8 text shows a U+FFFD.
bool HasLoneSurrogate(Napi::Env env, Napi::Value v) {
  size_t len = 0;
  if (napi_get_value_string_utf16(env, v, nullptr, 0, &len) != napi_ok) {
    return false;
  }
  std::u16string units(len, u'\0');
  if (napi_get_value_string_utf16(env, v, &units[0], len + 1, &len) != napi_ok) {
    return false;
  }
  for (size_t i = 0; i < len; i++) {
    char16_t c = units[i];
    if (c >= 0xD800 && c <= 0xDBFF) {
      if (i + 1 < len && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
        i++;
        continue;
      }
      return true;
    }
    if (c >= 0xDC00 && c <= 0xDFFF) {
      return true;
    }
  }
  return false;
}

// The bytes of an ArrayBuffer or of any view on one (Buffer, every typed
// array, DataView), as node-postgres sends them: bytea.
bool ByteView(Napi::Env env, Napi::Value v, const void** data, size_t* len) {
  void* ptr = nullptr;
  if (v.IsTypedArray()) {
    napi_typedarray_type type;
    size_t length;
    if (napi_get_typedarray_info(env, v, &type, &length, &ptr, nullptr, nullptr) != napi_ok) {
      return false;
    }
    *len = v.As<Napi::TypedArray>().ByteLength();
  } else if (v.IsDataView()) {
    if (napi_get_dataview_info(env, v, len, &ptr, nullptr, nullptr) != napi_ok) {
      return false;
    }
  } else if (v.IsArrayBuffer()) {
    if (napi_get_arraybuffer_info(env, v, &ptr, len) != napi_ok) {
      return false;
    }
  } else {
    return false;
  }
  *data = ptr;
  return true;
}

// A Date is written as its wall-clock time in the process's zone plus that
// zone's offset, untyped: a timestamptz column keeps the instant, a
// timestamp or date column the local fields, whatever the server's
// TimeZone -- what node-postgres stores (its dateToString), except that an
// offset with seconds (local mean time, before ~1900) stays exact where
// pg's whole minutes shift the instant.
bool AddDate(Napi::Env env, Addon* addon, pga_params* p, Napi::Date date, int index) {
  double ms = date.ValueOf();
  if (!std::isfinite(ms)) {
    return ThrowUnsupported(env, addon, date, index, "Invalid Date");
  }
  Napi::Value wall = addon->wall_clock_ms.Call({date});
  if (env.IsExceptionPending()) {
    return false;
  }
  if (!wall.IsNumber() || !std::isfinite(wall.As<Napi::Number>().DoubleValue())) {
    return ThrowUnsupported(env, addon, date, index, "Date outside the local calendar");
  }
  int64_t local = static_cast<int64_t>(wall.As<Napi::Number>().DoubleValue());
  int offset = static_cast<int>((local - static_cast<int64_t>(ms)) / 1000);
  int64_t days = local / kMsPerDay;
  int64_t rem = local % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    days -= 1;
  }
  int64_t year;
  int month, day;
  CivilFromDays(days, &year, &month, &day);
  return Check(env, addon, p,
               pga_params_add_local_timestamp(
                   p, static_cast<int>(year), month, day, static_cast<int>(rem / 3600000),
                   static_cast<int>(rem / 60000 % 60), static_cast<int>(rem / 1000 % 60),
                   static_cast<int>(rem % 1000) * 1000, offset),
               index);
}

bool AddValue(Napi::Env env, Addon* addon, pga_params* p, Napi::Value v, int index,
              int depth) {
  if (depth > 64) {
    return ThrowUnsupported(env, addon, v, index, "arrays nested too deeply");
  }
  switch (v.Type()) {
    case napi_undefined:
    case napi_null:
      return Check(env, addon, p, pga_params_add_null(p), index);
    case napi_boolean:
    case napi_number:
    case napi_bigint:
    case napi_string: {
      // node-postgres's rule: the text travels untyped and the column (or
      // the cast) decides, so 5 and 5e9 are typed alike and an integer
      // column refuses 2.5 instead of rounding it.  toString() is the text
      // pg sends ('true' and 'false' for booleans).
      std::string s = v.Type() == napi_string ? v.As<Napi::String>().Utf8Value()
                                              : v.ToString().Utf8Value();
      // V8 writes a lone surrogate as U+FFFD: refuse rather than alter.
      if (v.Type() == napi_string && s.find("\xEF\xBF\xBD") != std::string::npos &&
          HasLoneSurrogate(env, v)) {
        return ThrowUnsupported(env, addon, v, index,
                                "string contains a lone UTF-16 surrogate (not valid Unicode)");
      }
      return Check(env, addon, p, pga_params_add_untyped(p, s.data(), s.size()), index);
    }
    case napi_object:
      break;
    default:
      return ThrowUnsupported(env, addon, v, index, nullptr);
  }

  const void* bytes = nullptr;
  size_t nbytes = 0;
  if (ByteView(env, v, &bytes, &nbytes)) {
    return Check(env, addon, p, pga_params_add_bytea(p, bytes, nbytes), index);
  }
  if (v.IsDate()) {
    return AddDate(env, addon, p, v.As<Napi::Date>(), index);
  }
  if (v.IsArray()) {
    Napi::Array arr = v.As<Napi::Array>();
    if (!Check(env, addon, p, pga_params_array_begin(p), index)) {
      return false;
    }
    uint32_t n = arr.Length();
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value elem = arr.Get(i);
      if (env.IsExceptionPending() || !AddValue(env, addon, p, elem, index, depth + 1)) {
        return false;
      }
    }
    return Check(env, addon, p, pga_params_array_end(p), index);
  }
  Napi::Object obj = v.As<Napi::Object>();
  if (!IsJsonObject(env, addon, obj)) {
    if (env.IsExceptionPending()) {
      return false;
    }
    return ThrowUnsupported(env, addon, v, index,
                            "unsupported object (pass a plain object for json, a "
                            "Buffer or typed array for bytea, a Date for a timestamp)");
  }
  Napi::Value json = addon->json_stringify.Call({v});
  if (env.IsExceptionPending()) {
    return false;  // e.g. a BigInt or a cycle inside: JSON.stringify's TypeError
  }
  if (!json.IsString()) {
    return Check(env, addon, p, pga_params_add_null(p), index);
  }
  // Untyped, as pg sends it: a json column keeps this very text (a jsonb
  // parameter would reach it re-spelt, keys reordered), jsonb and text
  // columns store what pg's would.
  std::string text = json.As<Napi::String>().Utf8Value();
  return Check(env, addon, p, pga_params_add_untyped(p, text.data(), text.size()), index);
}

Napi::Value LocalDate(Napi::Env env, Addon* addon, const pga_value& v) {
  return addon->local_date.Call(
      {Napi::Number::New(env, v.year), Napi::Number::New(env, v.month),
       Napi::Number::New(env, v.day), Napi::Number::New(env, v.hour),
       Napi::Number::New(env, v.minute), Napi::Number::New(env, v.second),
       Napi::Number::New(env, v.microsecond / 1000)});
}

// A value the core cannot read (a timestamptz whose zone only the zone
// database could place, malformed text) is an error, never its raw text
// handed back as if it were the value.
Napi::Value DecodeFailed(Napi::Env env, Addon* addon, const char* text, size_t len) {
  std::string message = "a result value cannot be decoded: \"";
  message.append(text, len > 200 ? 200 : len);
  message += "\"";
  ErrorExtra extra;
  extra.message = message.c_str();
  Napi::Value err = ErrorFromCore(env, addon, nullptr, PGA_EDECODE, &extra);
  if (!env.IsExceptionPending()) {
    napi_throw(env, err);
  }
  return Napi::Value();
}

// A timestamptz's instant, in ms since the epoch (sub-ms truncated).
double EpochMs(const pga_value& v) {
  return static_cast<double>(DaysFromCivil(v.year, v.month, v.day)) * kMsPerDay +
         v.hour * 3600000.0 + v.minute * 60000.0 + v.second * 1000.0 +
         std::floor(v.microsecond / 1000.0) - v.utc_offset * 1000.0;
}

// A string is made only for the values that are one: a number or a Date
// never pays for its text's copy in the JS heap.
Napi::Value DecodeScalar(Napi::Env env, Addon* addon, int kind, unsigned oid,
                         const char* text, size_t len, int int8_mode) {
  pga_value v;
  switch (kind) {
    case PGA_T_INTERVAL:
      // Text in IntervalStyle postgres (the core rewrites other styles),
      // checked like every other value.
      if (pga_value_decode(kind, text, len, &v) != PGA_OK) {
        return DecodeFailed(env, addon, text, len);
      }
      return Napi::String::New(env, text, len);
    case PGA_T_TEXT:
    case PGA_T_NUMERIC:  // exact: a JS number would round it
    case PGA_T_TIME:
    case PGA_T_UUID:
      return Napi::String::New(env, text, len);
    case PGA_T_INT:
      if (oid == kOidInt8 && int8_mode == kInt8String) {
        return Napi::String::New(env, text, len);
      }
      break;
    case PGA_T_JSON:
      return addon->json_parse.Call({Napi::String::New(env, text, len)});
    default:
      break;
  }
  if (kind != PGA_T_BYTEA && pga_value_decode(kind, text, len, &v) != PGA_OK) {
    return DecodeFailed(env, addon, text, len);
  }
  switch (kind) {
    case PGA_T_BOOL:
      return Napi::Boolean::New(env, v.i != 0);
    case PGA_T_INT:
      if (oid == kOidInt8 && int8_mode == kInt8BigInt) {
        return Napi::BigInt::New(env, v.i);
      }
      return Napi::Number::New(env, static_cast<double>(v.i));
    case PGA_T_FLOAT:
      return Napi::Number::New(env, v.f);
    case PGA_T_BYTEA: {
      if (pga_value_decode(PGA_T_BYTEA, text, len, &v) != PGA_OK) {
        return DecodeFailed(env, addon, text, len);
      }
      Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, v.len);
      if (v.len > 0 && pga_bytea_decode(text, len, buf.Data()) < 0) {
        return DecodeFailed(env, addon, text, len);
      }
      return buf;
    }
    case PGA_T_DATE:
    case PGA_T_TIMESTAMP:
      if (v.infinity != 0) {
        return Napi::Number::New(env, v.infinity > 0 ? INFINITY : -INFINITY);
      }
      // Without a zone the value is wall-clock time: read it in the
      // process's zone, as node-postgres does.
      if (kind == PGA_T_DATE) {
        v.hour = v.minute = v.second = v.microsecond = 0;
      }
      return LocalDate(env, addon, v);
    case PGA_T_TIMESTAMPTZ:
      if (v.infinity != 0) {
        return Napi::Number::New(env, v.infinity > 0 ? INFINITY : -INFINITY);
      }
      return addon->make_date.Call({Napi::Number::New(env, EpochMs(v))});
    default:
      return Napi::String::New(env, text, len);
  }
}

Napi::Value DecodeArray(Napi::Env env, Addon* addon, unsigned elem_oid, const char* text,
                        size_t len, int int8_mode) {
  int elem_kind = pga_type_kind(elem_oid, nullptr);
  pga_array_reader reader;
  pga_array_reader_init(&reader, text, len);
  std::vector<Napi::Array> stack;
  Napi::Value top = Napi::String::New(env, text, len);
  const char* tok;
  size_t tok_len;
  int t;
  bool ok = true;
  while ((t = pga_array_next(&reader, &tok, &tok_len)) > 0) {
    if (t == PGA_ARRAY_BEGIN) {
      stack.push_back(Napi::Array::New(env));
      continue;
    }
    if (stack.empty()) {
      ok = false;
      break;
    }
    Napi::Array cur = stack.back();
    if (t == PGA_ARRAY_END) {
      stack.pop_back();
      if (stack.empty()) {
        top = cur;
      } else {
        stack.back().Set(stack.back().Length(), cur);
      }
      continue;
    }
    Napi::Value elem = t == PGA_ARRAY_NULL
                           ? env.Null()
                           : DecodeScalar(env, addon, elem_kind, elem_oid, tok, tok_len,
                                          int8_mode);
    if (env.IsExceptionPending()) {
      ok = false;
      break;
    }
    cur.Set(cur.Length(), elem);
  }
  pga_array_reader_done(&reader);
  if (t < 0) {
    ok = false;
  }
  if (!ok && !env.IsExceptionPending()) {
    return DecodeFailed(env, addon, text, len);
  }
  return top;
}

}  // namespace

bool AddParam(Napi::Env env, Addon* addon, pga_params* params, Napi::Value value,
              int index) {
  return AddValue(env, addon, params, value, index, 0);
}

// Rows per handle scope (and per call of the row filler), and between
// looks at the clock.
constexpr int kRowsPerScope = 256;

ResultBuilder::ResultBuilder(pga_result* res, bool owns, int int8_mode)
    : res_(res), owns_(owns), int8_mode_(int8_mode) {
  nrows_ = pga_result_nrows(res);
  ncols_ = pga_result_ncols(res);
}

ResultBuilder::~ResultBuilder() {
  if (owns_) {
    pga_result_free(res_);
  }
}

bool ResultBuilder::Start(Napi::Env env, Addon* addon) {
  Napi::Object out = Napi::Object::New(env);
  const char* status = pga_result_status(res_);
  std::string tag = status != nullptr ? status : "";
  if (int8_mode_ == kResultRaw) {
    // The whole tag ("INSERT 0 1"): pg's oid and rowCount are read from it.
    out.Set("tag", Napi::String::New(env, tag));
  } else {
    std::string command = tag.substr(0, tag.find(' '));
    out.Set("command", command.empty() ? env.Null() : Napi::String::New(env, command));
    int64_t count = pga_result_rowcount(res_);
    out.Set("rowCount", count < 0 ? env.Null()
                                   : Napi::Number::New(env, static_cast<double>(count)));
  }
  Napi::Array names = Napi::Array::New(env, ncols_);
  Napi::Array fields = Napi::Array::New(env, ncols_);
  for (int c = 0; c < ncols_; c++) {
    unsigned oid = pga_result_coltype(res_, c);
    unsigned elem = 0;
    Napi::String name = Napi::String::New(env, pga_result_colname(res_, c));
    names.Set(static_cast<uint32_t>(c), name);
    oids_.push_back(oid);
    kinds_.push_back(pga_type_kind(oid, &elem));
    elem_oids_.push_back(elem);
    Napi::Object field = Napi::Object::New(env);
    field.Set("name", name);
    field.Set("dataTypeID", Napi::Number::New(env, oid));
    fields.Set(static_cast<uint32_t>(c), field);
  }
  Napi::Array rows = Napi::Array::New(env, nrows_);
  out.Set("rows", rows);
  out.Set("fields", fields);
  if (env.IsExceptionPending()) {
    return false;
  }
  out_ = Napi::Persistent(out);
  rows_ = Napi::Persistent(rows);
  if (int8_mode_ != kResultRaw && nrows_ > 0) {
    // The rows are made in JS (native.js rowFiller) from cells laid out
    // here: V8 copies a template object far faster than the addon can
    // define a row's properties one call at a time.
    size_t ncells = static_cast<size_t>(nrows_ < kRowsPerScope ? nrows_ : kRowsPerScope) *
                    static_cast<size_t>(ncols_);
    Napi::Array cells = Napi::Array::New(env, ncells);
    Napi::ArrayBuffer num_buf = Napi::ArrayBuffer::New(env, ncells * sizeof(double));
    Napi::ArrayBuffer tag_buf = Napi::ArrayBuffer::New(env, ncells);
    Napi::Value fill = addon->row_filler.Call(
        {names, cells, Napi::Float64Array::New(env, ncells, num_buf, 0),
         Napi::Uint8Array::New(env, ncells, tag_buf, 0)});
    if (env.IsExceptionPending()) {
      return false;
    }
    if (!fill.IsFunction()) {
      Napi::TypeError::New(env, "pgatomic: rowFiller() did not return a function")
          .ThrowAsJavaScriptException();
      return false;
    }
    // The closure holds the buffers: their memory stays put while it lives.
    fill_ = Napi::Persistent(fill.As<Napi::Function>());
    cells_ = Napi::Persistent(cells);
    nums_ = static_cast<double*>(num_buf.Data());
    tags_ = static_cast<uint8_t*>(tag_buf.Data());
  }
  return true;
}

namespace {

// How rowFiller() reads cell k of a slice: numbers, booleans and
// timestamptz instants travel in typed arrays the addon writes directly,
// other values as JS values in the cells array.
enum CellTag : uint8_t { kCellNumber = 0, kCellValue = 1, kCellNull = 2, kCellDate = 3,
                         kCellFalse = 4, kCellTrue = 5 };

// The cell in nums/tags when its kind travels there (true), else false
// with nothing written.  A value that cannot be decoded leaves a JS
// exception pending (true).
bool DecodeCell(Napi::Env env, Addon* addon, int kind, unsigned oid, int int8_mode,
                const char* text, size_t len, double* num, uint8_t* tag) {
  switch (kind) {
    case PGA_T_INT:
      if (oid == kOidInt8 && int8_mode != kInt8Number) {
        return false;
      }
      break;
    case PGA_T_FLOAT:
    case PGA_T_BOOL:
    case PGA_T_TIMESTAMPTZ:
      break;
    default:
      return false;
  }
  pga_value v;
  if (pga_value_decode(kind, text, len, &v) != PGA_OK) {
    DecodeFailed(env, addon, text, len);
    return true;
  }
  *tag = kCellNumber;
  switch (kind) {
    case PGA_T_INT:
      *num = static_cast<double>(v.i);
      break;
    case PGA_T_FLOAT:
      *num = v.f;
      break;
    case PGA_T_BOOL:
      *tag = v.i != 0 ? kCellTrue : kCellFalse;
      break;
    default:  // PGA_T_TIMESTAMPTZ
      if (v.infinity != 0) {
        *num = v.infinity > 0 ? INFINITY : -INFINITY;
      } else {
        *num = EpochMs(v);
        *tag = kCellDate;
      }
      break;
  }
  return true;
}

}  // namespace

int ResultBuilder::Step(Napi::Env env, Addon* addon, uint64_t deadline_ns) {
  if (int8_mode_ == kResultRaw) {
    return StepRaw(env, deadline_ns);
  }
  if (next_ >= nrows_) {
    return 1;
  }
  napi_value rows = rows_.Value();
  napi_value cells = cells_.Value();
  napi_value fill = fill_.Value();
  while (next_ < nrows_) {
    Napi::HandleScope scope(env);
    int end = nrows_ - next_ > kRowsPerScope ? next_ + kRowsPerScope : nrows_;
    uint32_t k = 0;
    for (int r = next_; r < end; r++) {
      for (int c = 0; c < ncols_; c++, k++) {
        if (pga_result_isnull(res_, r, c)) {
          tags_[k] = kCellNull;
          continue;
        }
        size_t len = 0;
        const char* text = pga_result_text(res_, r, c, &len);
        if (!DecodeCell(env, addon, kinds_[c], oids_[c], int8_mode_, text, len, &nums_[k],
                        &tags_[k])) {
          napi_value value =
              kinds_[c] == PGA_T_ARRAY
                  ? DecodeArray(env, addon, elem_oids_[c], text, len, int8_mode_)
                  : DecodeScalar(env, addon, kinds_[c], oids_[c], text, len, int8_mode_);
          if (!env.IsExceptionPending() &&
              napi_set_element(env, cells, k, value) != napi_ok) {
            return -1;
          }
          tags_[k] = kCellValue;
        }
        if (env.IsExceptionPending()) {
          return -1;
        }
      }
    }
    napi_value args[3] = {rows, Napi::Number::New(env, next_), Napi::Number::New(env, end - next_)};
    napi_value ignored;
    if (napi_call_function(env, env.Undefined(), fill, 3, args, &ignored) != napi_ok) {
      return -1;
    }
    next_ = end;
    if (deadline_ns != 0 && next_ < nrows_ && uv_hrtime() >= deadline_ns) {
      return 0;
    }
  }
  return 1;
}

// Raw mode: each row an array of the cells' text, null for NULL.
int ResultBuilder::StepRaw(Napi::Env env, uint64_t deadline_ns) {
  Napi::Array rows = rows_.Value();
  std::vector<napi_value> cells(static_cast<size_t>(ncols_));
  while (next_ < nrows_) {
    Napi::HandleScope scope(env);
    int end = nrows_ - next_ > kRowsPerScope ? next_ + kRowsPerScope : nrows_;
    for (; next_ < end; next_++) {
      for (int c = 0; c < ncols_; c++) {
        napi_value value = env.Null();
        if (!pga_result_isnull(res_, next_, c)) {
          size_t len = 0;
          const char* text = pga_result_text(res_, next_, c, &len);
          if (napi_create_string_utf8(env, text, len, &value) != napi_ok) {
            return -1;
          }
        }
        cells[static_cast<size_t>(c)] = value;
      }
      napi_value row;
      if (napi_create_array_with_length(env, cells.size(), &row) != napi_ok) {
        return -1;
      }
      for (size_t c = 0; c < cells.size(); c++) {
        if (napi_set_element(env, row, static_cast<uint32_t>(c), cells[c]) != napi_ok) {
          return -1;
        }
      }
      if (napi_set_element(env, rows, static_cast<uint32_t>(next_), row) != napi_ok) {
        return -1;
      }
    }
    if (deadline_ns != 0 && next_ < nrows_ && uv_hrtime() >= deadline_ns) {
      return 0;
    }
  }
  return 1;
}

Napi::Value ResultBuilder::Finish(Napi::Env env) {
  Napi::Value out = out_.IsEmpty() ? env.Null() : out_.Value();
  out_.Reset();
  rows_.Reset();
  fill_.Reset();
  cells_.Reset();
  return out;
}

void ResultBuilder::Detach() {
  // The environment is going away: its references must not be touched.
  out_.SuppressDestruct();
  rows_.SuppressDestruct();
  fill_.SuppressDestruct();
  cells_.SuppressDestruct();
}

Napi::Value ResultToJs(Napi::Env env, Addon* addon, const pga_result* res,
                       int int8_mode) {
  ResultBuilder builder(const_cast<pga_result*>(res), false, int8_mode);
  if (!builder.Start(env, addon) || builder.Step(env, addon, 0) < 0) {
    return Napi::Value();
  }
  return builder.Finish(env);
}
