/* params.c -- owns pga_params: encoding values (and arrays of them) into the
 * wire forms of the extended protocol.  Leaves sending them to step.c. */
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Type OIDs (pg_type.dat); fixed since PostgreSQL 7.x / 9.4 (jsonb). */
#define OID_UNKNOWN 0u
#define OID_BOOL 16u
#define OID_BYTEA 17u
#define OID_INT8 20u
#define OID_INT2 21u
#define OID_INT4 23u
#define OID_TEXT 25u
#define OID_FLOAT8 701u
#define OID_DATE 1082u
#define OID_TIME 1083u
#define OID_TIMETZ 1266u
#define OID_TIMESTAMP 1114u
#define OID_TIMESTAMPTZ 1184u
#define OID_INTERVAL 1186u
#define OID_NUMERIC 1700u
#define OID_UUID 2950u
#define OID_JSONB 3802u

/* An SQL NULL has no bytes in the arena. */
#define NULL_OFFSET SIZE_MAX
/* Lengths travel as int, and the server refuses messages over 1 GB anyway. */
#define ARENA_LIMIT ((size_t)INT_MAX - 1)

struct pga_params {
    /* One growing arena holds every encoded value back to back, so a
     * pga_params reused per statement stops allocating after warm-up.
     * Each value is NUL-terminated: libpq reads text values as C strings. */
    char *buf;
    size_t len, cap;
    /* Per top-level value.  values[] is only filled in by
     * pga__params_view_of(), because the arena moves when it grows. */
    size_t *offsets;
    unsigned *types;
    int *lengths;
    int *formats;
    const char **values;
    int count;       /* finished values; an open array is not one yet */
    int slots;       /* capacity of the five arrays above */
    /* Open arrays.  The outermost one is being written at offsets[count];
     * level_elems[d] counts what level d holds, to place the commas. */
    int depth;
    int level_cap;
    size_t *level_elems;
    unsigned array_elem;   /* element type so far; OID_UNKNOWN: none yet */
    char errmsg[128];
};

static int fail(pga_params *p, int code, const char *msg)
{
    snprintf(p->errmsg, sizeof p->errmsg, "%s", msg);
    return code;
}

int pga_params_new(pga_params **out)
{
    if (out == NULL) {
        return PGA_EMISUSE;
    }
    *out = calloc(1, sizeof **out);
    return *out != NULL ? PGA_OK : PGA_ENOMEM;
}

void pga_params_free(pga_params *p)
{
    if (p == NULL) {
        return;
    }
    free(p->buf);
    free(p->offsets);
    free(p->types);
    free(p->lengths);
    free(p->formats);
    free(p->values);
    free(p->level_elems);
    free(p);
}

void pga_params_clear(pga_params *p)
{
    if (p == NULL) {
        return;
    }
    p->len = 0;
    p->count = 0;
    p->depth = 0;
    p->array_elem = OID_UNKNOWN;
    p->errmsg[0] = '\0';
}

int pga_params_count(const pga_params *p)
{
    return p != NULL ? p->count : 0;
}

const char *pga_params_errmsg(const pga_params *p)
{
    return p != NULL ? p->errmsg : "";
}

/* ---- storage ------------------------------------------------------------ */

static int reserve(pga_params *p, size_t n)
{
    if (n > ARENA_LIMIT - p->len) {
        return fail(p, PGA_EPARAM, "parameters exceed 2 GiB");
    }
    if (p->len + n <= p->cap) {
        return PGA_OK;
    }
    size_t cap = p->cap != 0 ? p->cap : 256;
    while (cap < p->len + n) {
        cap *= 2;
    }
    char *buf = realloc(p->buf, cap);
    if (buf == NULL) {
        return fail(p, PGA_ENOMEM, "out of memory");
    }
    p->buf = buf;
    p->cap = cap;
    return PGA_OK;
}

/* Grow the per-value arrays together.  A realloc that fails leaves its
 * block intact, so the ones already grown are merely roomier than needed. */
static int ensure_slot(pga_params *p)
{
    if (p->count >= PGA_PARAMS_MAX) {
        /* The protocol counts parameters in 16 bits; libpq would refuse
         * the statement only once a batch is half sent. */
        return fail(p, PGA_EPARAM, "too many parameters: PostgreSQL accepts at most 65535");
    }
    if (p->count < p->slots) {
        return PGA_OK;
    }
    if (p->slots > INT_MAX / 2) {
        return fail(p, PGA_EPARAM, "too many parameters");
    }
    size_t n = p->slots != 0 ? (size_t)p->slots * 2 : 8;
    size_t *offsets = realloc(p->offsets, n * sizeof *offsets);
    if (offsets == NULL) {
        return fail(p, PGA_ENOMEM, "out of memory");
    }
    p->offsets = offsets;
    unsigned *types = realloc(p->types, n * sizeof *types);
    if (types == NULL) {
        return fail(p, PGA_ENOMEM, "out of memory");
    }
    p->types = types;
    int *lengths = realloc(p->lengths, n * sizeof *lengths);
    if (lengths == NULL) {
        return fail(p, PGA_ENOMEM, "out of memory");
    }
    p->lengths = lengths;
    int *formats = realloc(p->formats, n * sizeof *formats);
    if (formats == NULL) {
        return fail(p, PGA_ENOMEM, "out of memory");
    }
    p->formats = formats;
    const char **values = realloc(p->values, n * sizeof *values);
    if (values == NULL) {
        return fail(p, PGA_ENOMEM, "out of memory");
    }
    p->values = values;
    p->slots = (int)n;
    return PGA_OK;
}

static void finish_value(pga_params *p, size_t offset, unsigned type, int format)
{
    p->offsets[p->count] = offset;
    p->types[p->count] = type;
    p->lengths[p->count] = offset == NULL_OFFSET ? 0 : (int)(p->len - offset - 1);
    p->formats[p->count] = format;
    p->count++;
}

/* A top-level value: the bytes as given, then the NUL libpq relies on. */
static int put_top(pga_params *p, unsigned type, int format, const void *data, size_t len)
{
    int rc = ensure_slot(p);
    if (rc == PGA_OK) {
        rc = reserve(p, len + 1);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    size_t offset = p->len;
    if (len > 0) {
        memcpy(p->buf + offset, data, len);
    }
    p->buf[offset + len] = '\0';
    p->len += len + 1;
    finish_value(p, offset, type, format);
    return PGA_OK;
}

/* ---- arrays ------------------------------------------------------------- */

static int int_rank(unsigned oid)
{
    switch (oid) {
    case OID_INT2:
        return 1;
    case OID_INT4:
        return 2;
    case OID_INT8:
        return 3;
    default:
        return 0;
    }
}

/* The element type after adding one of type elem; 0 when they clash.
 * Integers are typed by value, so [1, 100000] must widen, not clash. */
static int merge_elem(unsigned have, unsigned elem, unsigned *merged)
{
    if (elem == OID_UNKNOWN || have == elem) {
        *merged = have;
        return 1;
    }
    if (have == OID_UNKNOWN) {
        *merged = elem;
        return 1;
    }
    if (int_rank(have) != 0 && int_rank(elem) != 0) {
        *merged = int_rank(have) > int_rank(elem) ? have : elem;
        return 1;
    }
    return 0;
}

static unsigned array_oid_of(unsigned elem)
{
    switch (elem) {
    case OID_BOOL:
        return 1000u;
    case OID_BYTEA:
        return 1001u;
    case OID_INT2:
        return 1005u;
    case OID_INT4:
        return 1007u;
    case OID_TEXT:
        return 1009u;
    case OID_INT8:
        return 1016u;
    case OID_FLOAT8:
        return 1022u;
    case OID_DATE:
        return 1182u;
    case OID_TIME:
        return 1183u;
    case OID_TIMETZ:
        return 1270u;
    case OID_TIMESTAMP:
        return 1115u;
    case OID_TIMESTAMPTZ:
        return 1185u;
    case OID_INTERVAL:
        return 1187u;
    case OID_NUMERIC:
        return 1231u;
    case OID_UUID:
        return 2951u;
    case OID_JSONB:
        return 3807u;
    default:
        /* Only NULLs or nothing: let the server infer it from context. */
        return OID_UNKNOWN;
    }
}

/* Check the type, make room for room bytes plus a comma, and place the comma.
 * Nothing can fail after this returns PGA_OK, so a refused element leaves
 * the array exactly as it was. */
static int element_begin(pga_params *p, unsigned elem, size_t room, unsigned *merged)
{
    if (!merge_elem(p->array_elem, elem, merged)) {
        return fail(p, PGA_EPARAM, "array elements must all have the same type");
    }
    if (room > ARENA_LIMIT) {
        return fail(p, PGA_EPARAM, "parameters exceed 2 GiB");
    }
    int rc = reserve(p, room + 1);
    if (rc != PGA_OK) {
        return rc;
    }
    if (p->level_elems[p->depth - 1] > 0) {
        p->buf[p->len++] = ',';
    }
    return PGA_OK;
}

static void element_end(pga_params *p, unsigned merged)
{
    p->level_elems[p->depth - 1]++;
    p->array_elem = merged;
}

static int is_array_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* array_in splits on these, trims blanks and reads a bare NULL as null. */
static int element_needs_quotes(const char *s, size_t len)
{
    if (len == 0) {
        return 1;
    }
    if (len == 4 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'u' && (s[2] | 0x20) == 'l' &&
        (s[3] | 0x20) == 'l') {
        return 1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || is_array_space(c)) {
            return 1;
        }
    }
    return 0;
}

static int put_element(pga_params *p, unsigned elem, const char *s, size_t len)
{
    unsigned merged;
    if (len > ARENA_LIMIT / 2) {
        return fail(p, PGA_EPARAM, "parameters exceed 2 GiB");
    }
    int rc = element_begin(p, elem, 2 * len + 2, &merged);
    if (rc != PGA_OK) {
        return rc;
    }
    char *out = p->buf + p->len;
    /* Untyped elements are always quoted, as node-postgres writes them, so
     * an array stored whole in a text column reads the same. */
    if (elem != OID_UNKNOWN && !element_needs_quotes(s, len)) {
        memcpy(out, s, len);
        out += len;
    }
    else {
        *out++ = '"';
        for (size_t i = 0; i < len; i++) {
            if (s[i] == '"' || s[i] == '\\') {
                *out++ = '\\';
            }
            *out++ = s[i];
        }
        *out++ = '"';
    }
    p->len = (size_t)(out - p->buf);
    element_end(p, merged);
    return PGA_OK;
}

/* One scalar in text form: top-level with type top, or an array element
 * whose element type is elem (text is unknown on its own but text[] in an
 * array, since an array of unknown does not exist). */
static int put_text(pga_params *p, unsigned top, unsigned elem, const char *s, size_t len)
{
    if (p->depth > 0) {
        return put_element(p, elem, s, len);
    }
    return put_top(p, top, 0, s, len);
}

int pga_params_array_begin(pga_params *p)
{
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    int rc;
    if (p->depth == p->level_cap) {
        if (p->level_cap > INT_MAX / 2) {
            return fail(p, PGA_EPARAM, "arrays nested too deeply");
        }
        int cap = p->level_cap != 0 ? p->level_cap * 2 : 4;
        size_t *levels = realloc(p->level_elems, (size_t)cap * sizeof *levels);
        if (levels == NULL) {
            return fail(p, PGA_ENOMEM, "out of memory");
        }
        p->level_elems = levels;
        p->level_cap = cap;
    }
    if (p->depth == 0) {
        rc = ensure_slot(p);
        if (rc == PGA_OK) {
            rc = reserve(p, 1);
        }
        if (rc != PGA_OK) {
            return rc;
        }
        p->offsets[p->count] = p->len;
        p->array_elem = OID_UNKNOWN;
    }
    else {
        unsigned merged;
        rc = element_begin(p, OID_UNKNOWN, 1, &merged);
        if (rc != PGA_OK) {
            return rc;
        }
        element_end(p, merged);
    }
    p->buf[p->len++] = '{';
    p->level_elems[p->depth] = 0;
    p->depth++;
    return PGA_OK;
}

int pga_params_array_end(pga_params *p)
{
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    if (p->depth == 0) {
        return fail(p, PGA_EPARAM, "no array is open");
    }
    int rc = reserve(p, 2);
    if (rc != PGA_OK) {
        return rc;
    }
    p->buf[p->len++] = '}';
    p->depth--;
    if (p->depth == 0) {
        p->buf[p->len++] = '\0';
        finish_value(p, p->offsets[p->count], array_oid_of(p->array_elem), 0);
    }
    return PGA_OK;
}

/* ---- validation --------------------------------------------------------- */

/* Strict UTF-8 as PostgreSQL checks it: no overlong forms, no surrogates,
 * nothing above U+10FFFF.  NUL is refused separately, with its own message,
 * because the server cannot store it in any text type. */
int pga__utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0) {
                lo = 0xA0;
            }
            else if (c == 0xED) {
                hi = 0x9F;
            }
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0) {
                lo = 0x90;
            }
            else if (c == 0xF4) {
                hi = 0x8F;
            }
        }
        else {
            return 0;
        }
        if (len - i - 1 < n) {
            return 0;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            return 0;
        }
        for (size_t k = 2; k <= n; k++) {
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) {
                return 0;
            }
        }
        i += n + 1;
    }
    return 1;
}

static int check_text(pga_params *p, const char *s, size_t len)
{
    if (s == NULL && len > 0) {
        return fail(p, PGA_EPARAM, "NULL pointer with a nonzero length");
    }
    if (len > 0 && memchr(s, '\0', len) != NULL) {
        return fail(p, PGA_EPARAM, "PostgreSQL text cannot contain NUL (0x00) bytes");
    }
    if (!pga__utf8_valid((const unsigned char *)s, len)) {
        return fail(p, PGA_EPARAM, "text is not valid UTF-8");
    }
    return PGA_OK;
}

static int ci_equal(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != word[i]) {
            return 0;
        }
    }
    return 1;
}

/* numeric_in's grammar (PostgreSQL 15): [sign] digits [. digits] [e [sign]
 * digits], or NaN, or [sign] Infinity / inf.  Checked here so a bad value
 * fails as a parameter, naming no statement. */
static int numeric_valid(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (ci_equal(s, len, "nan")) {
        return 1;
    }
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        i++;
    }
    if (ci_equal(s + i, len - i, "infinity") || ci_equal(s + i, len - i, "inf")) {
        return 1;
    }
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (digits == 0) {
        return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            exp_digits++;
        }
        if (exp_digits == 0) {
            return 0;
        }
    }
    return i == len;
}

static int is_leap(long long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long long y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int check_date(pga_params *p, int year, int month, int day)
{
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
        return fail(p, PGA_EPARAM, "date out of range");
    }
    return PGA_OK;
}

static int check_time(pga_params *p, int hour, int minute, int second, int microsecond)
{
    /* 24:00:00 is accepted because PostgreSQL accepts it (end of day). */
    int end_of_day = hour == 24 && minute == 0 && second == 0 && microsecond == 0;
    if (!end_of_day && (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
                        second > 59 || microsecond < 0 || microsecond > 999999)) {
        return fail(p, PGA_EPARAM, "time out of range");
    }
    return PGA_OK;
}

/* ---- formatting --------------------------------------------------------- */

/* Astronomical years: 0 is 1 BC, -1 is 2 BC.  The " BC" suffix is returned
 * apart because it must follow the time and offset of a timestamp. */
static int format_date(char *out, size_t cap, int year, int month, int day, int *bc)
{
    long long y = year;
    *bc = y < 1;
    if (*bc) {
        y = 1 - y;
    }
    return snprintf(out, cap, "%04lld-%02d-%02d", y, month, day);
}

static int format_time(char *out, size_t cap, int hour, int minute, int second,
                       int microsecond)
{
    return snprintf(out, cap, "%02d:%02d:%02d.%06d", hour, minute, second, microsecond);
}

/* The decimal point of the C library's current locale, when a program has
 * set LC_NUMERIC, is not what the server reads. */
static void use_c_decimal_point(char *s)
{
    const char *dp = localeconv()->decimal_point;
    size_t n = dp != NULL ? strlen(dp) : 0;
    if (n == 0 || (n == 1 && dp[0] == '.')) {
        return;
    }
    char *hit = strstr(s, dp);
    if (hit != NULL) {
        *hit = '.';
        memmove(hit + 1, hit + n, strlen(hit + n) + 1);
    }
}

/* ---- the add calls ------------------------------------------------------ */

int pga_params_add_null(pga_params *p)
{
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    if (p->depth > 0) {
        unsigned merged;
        int rc = element_begin(p, OID_UNKNOWN, 4, &merged);
        if (rc != PGA_OK) {
            return rc;
        }
        memcpy(p->buf + p->len, "NULL", 4);
        p->len += 4;
        element_end(p, merged);
        return PGA_OK;
    }
    int rc = ensure_slot(p);
    if (rc != PGA_OK) {
        return rc;
    }
    finish_value(p, NULL_OFFSET, OID_UNKNOWN, 0);
    return PGA_OK;
}

int pga_params_add_bool(pga_params *p, int value)
{
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    return put_text(p, OID_BOOL, OID_BOOL, value ? "t" : "f", 1);
}

int pga_params_add_int64(pga_params *p, int64_t value)
{
    char text[24];
    unsigned oid = OID_INT8;
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    if (value >= INT16_MIN && value <= INT16_MAX) {
        oid = OID_INT2;
    }
    else if (value >= INT32_MIN && value <= INT32_MAX) {
        oid = OID_INT4;
    }
    int n = snprintf(text, sizeof text, "%lld", (long long)value);
    return put_text(p, oid, oid, text, (size_t)n);
}

int pga_params_add_float64(pga_params *p, double value)
{
    char text[40];
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    if (isnan(value)) {
        snprintf(text, sizeof text, "NaN");
    }
    else if (isinf(value)) {
        snprintf(text, sizeof text, "%s", value > 0 ? "Infinity" : "-Infinity");
    }
    else {
        /* The shortest of %.15g..%.17g that reads back exactly: 0.1 goes
         * as "0.1", not "0.10000000000000001", yet nothing is lost. */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(text, sizeof text, "%.*g", prec, value);
            if (strtod(text, NULL) == value) {
                break;
            }
        }
        use_c_decimal_point(text);
    }
    return put_text(p, OID_FLOAT8, OID_FLOAT8, text, strlen(text));
}

int pga_params_add_numeric(pga_params *p, const char *text, size_t len)
{
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    if (text == NULL || !numeric_valid(text, len)) {
        return fail(p, PGA_EPARAM, "not a valid numeric value");
    }
    return put_text(p, OID_NUMERIC, OID_NUMERIC, text, len);
}

int pga_params_add_text(pga_params *p, const char *utf8, size_t len)
{
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    int rc = check_text(p, utf8, len);
    if (rc != PGA_OK) {
        return rc;
    }
    return put_text(p, OID_UNKNOWN, OID_TEXT, utf8 != NULL ? utf8 : "", len);
}

int pga_params_add_untyped(pga_params *p, const char *utf8, size_t len)
{
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    int rc = check_text(p, utf8, len);
    if (rc != PGA_OK) {
        return rc;
    }
    /* Unknown inside an array too: it then fits whatever type the other
     * elements give the array, or leaves the whole array untyped. */
    return put_text(p, OID_UNKNOWN, OID_UNKNOWN, utf8 != NULL ? utf8 : "", len);
}

int pga_params_add_json(pga_params *p, const char *utf8, size_t len)
{
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    int rc = check_text(p, utf8, len);
    if (rc != PGA_OK) {
        return rc;
    }
    return put_text(p, OID_JSONB, OID_JSONB, utf8 != NULL ? utf8 : "", len);
}

int pga_params_add_bytea(pga_params *p, const void *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    if (data == NULL && len > 0) {
        return fail(p, PGA_EPARAM, "NULL pointer with a nonzero length");
    }
    if (p->depth == 0) {
        /* Binary format: the raw bytes, no hex doubling on the wire. */
        return put_top(p, OID_BYTEA, 1, data, len);
    }
    /* Array literals are text only, so an element is bytea's hex text
     * "\x0a0b", quoted and with its backslash escaped: "\\x0a0b". */
    if (len > (ARENA_LIMIT - 6) / 2) {
        return fail(p, PGA_EPARAM, "parameters exceed 2 GiB");
    }
    unsigned merged;
    int rc = element_begin(p, OID_BYTEA, 2 * len + 5, &merged);
    if (rc != PGA_OK) {
        return rc;
    }
    const unsigned char *bytes = data;
    char *out = p->buf + p->len;
    memcpy(out, "\"\\\\x", 4);
    out += 4;
    for (size_t i = 0; i < len; i++) {
        *out++ = hex[bytes[i] >> 4];
        *out++ = hex[bytes[i] & 0x0f];
    }
    *out++ = '"';
    p->len = (size_t)(out - p->buf);
    element_end(p, merged);
    return PGA_OK;
}

int pga_params_add_uuid(pga_params *p, const unsigned char bytes[16])
{
    static const char hex[] = "0123456789abcdef";
    char text[37];
    size_t n = 0;
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    if (bytes == NULL) {
        return fail(p, PGA_EPARAM, "NULL uuid");
    }
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            text[n++] = '-';
        }
        text[n++] = hex[bytes[i] >> 4];
        text[n++] = hex[bytes[i] & 0x0f];
    }
    text[n] = '\0';
    return put_text(p, OID_UUID, OID_UUID, text, n);
}

int pga_params_add_date(pga_params *p, int year, int month, int day)
{
    char text[48];
    int bc;
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    int rc = check_date(p, year, month, day);
    if (rc != PGA_OK) {
        return rc;
    }
    int n = format_date(text, sizeof text, year, month, day, &bc);
    if (bc) {
        n += snprintf(text + n, sizeof text - (size_t)n, " BC");
    }
    return put_text(p, OID_DATE, OID_DATE, text, (size_t)n);
}

int pga_params_add_time(pga_params *p, int hour, int minute, int second, int microsecond)
{
    char text[48];
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    int rc = check_time(p, hour, minute, second, microsecond);
    if (rc != PGA_OK) {
        return rc;
    }
    int n = format_time(text, sizeof text, hour, minute, second, microsecond);
    return put_text(p, OID_TIME, OID_TIME, text, (size_t)n);
}

/* ", +HH:MM:SS" for an offset east of UTC in seconds, within a day. */
static int format_offset(char *out, size_t cap, int offset)
{
    int off = offset < 0 ? -offset : offset;
    return snprintf(out, cap, "%c%02d:%02d:%02d", offset < 0 ? '-' : '+', off / 3600,
                    off / 60 % 60, off % 60);
}

static int check_offset(pga_params *p, int offset)
{
    if (offset <= -86400 || offset >= 86400) {
        return fail(p, PGA_EPARAM, "UTC offset out of range");
    }
    return PGA_OK;
}

int pga_params_add_timetz(pga_params *p, int hour, int minute, int second, int microsecond,
                          int utc_offset_seconds)
{
    char text[64];
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    int rc = check_time(p, hour, minute, second, microsecond);
    if (rc == PGA_OK) {
        rc = check_offset(p, utc_offset_seconds);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    int n = format_time(text, sizeof text, hour, minute, second, microsecond);
    n += format_offset(text + n, sizeof text - (size_t)n, utc_offset_seconds);
    return put_text(p, OID_TIMETZ, OID_TIMETZ, text, (size_t)n);
}

int pga_params_add_infinity(pga_params *p, int kind, int sign)
{
    unsigned oid;
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    switch (kind) {
    case PGA_T_DATE:
        oid = OID_DATE;
        break;
    case PGA_T_TIMESTAMP:
        oid = OID_TIMESTAMP;
        break;
    case PGA_T_TIMESTAMPTZ:
        oid = OID_TIMESTAMPTZ;
        break;
    default:
        return fail(p, PGA_EPARAM, "only dates and timestamps are infinite");
    }
    return sign < 0 ? put_text(p, oid, oid, "-infinity", 9)
                    : put_text(p, oid, oid, "infinity", 8);
}

/* offset is NULL for a timestamp without time zone.  An untyped one is
 * spelled as node-postgres spells a Date ("2024-03-10T07:00:00.123+05:30"),
 * so one stored whole in a text column reads the same; the server reads
 * both spellings alike. */
static int add_timestamp(pga_params *p, unsigned oid, int year, int month, int day,
                         int hour, int minute, int second, int microsecond,
                         const int *offset)
{
    char text[96];
    int bc;
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    int rc = check_date(p, year, month, day);
    if (rc == PGA_OK) {
        rc = check_time(p, hour, minute, second, microsecond);
    }
    if (rc != PGA_OK) {
        return rc;
    }
    if (offset != NULL && check_offset(p, *offset) != PGA_OK) {
        return PGA_EPARAM;
    }
    int pg_style = oid == OID_UNKNOWN;
    int n = format_date(text, sizeof text, year, month, day, &bc);
    text[n++] = pg_style ? 'T' : ' ';
    if (pg_style && microsecond % 1000 == 0) {
        n += snprintf(text + n, sizeof text - (size_t)n, "%02d:%02d:%02d.%03d", hour, minute,
                      second, microsecond / 1000);
    }
    else {
        n += format_time(text + n, sizeof text - (size_t)n, hour, minute, second, microsecond);
    }
    if (offset != NULL) {
        if (pg_style && *offset % 60 == 0) {
            int off = *offset < 0 ? -*offset : *offset;
            n += snprintf(text + n, sizeof text - (size_t)n, "%c%02d:%02d", *offset < 0 ? '-' : '+',
                          off / 3600, off / 60 % 60);
        }
        else {
            n += format_offset(text + n, sizeof text - (size_t)n, *offset);
        }
    }
    if (bc) {
        n += snprintf(text + n, sizeof text - (size_t)n, " BC");
    }
    return put_text(p, oid, oid, text, (size_t)n);
}

int pga_params_add_timestamp(pga_params *p, int year, int month, int day, int hour,
                             int minute, int second, int microsecond)
{
    return add_timestamp(p, OID_TIMESTAMP, year, month, day, hour, minute, second,
                         microsecond, NULL);
}

int pga_params_add_timestamptz(pga_params *p, int year, int month, int day, int hour,
                               int minute, int second, int microsecond,
                               int utc_offset_seconds)
{
    return add_timestamp(p, OID_TIMESTAMPTZ, year, month, day, hour, minute, second,
                         microsecond, &utc_offset_seconds);
}

/* "[M mons ]D days +HH:MM:SS.ffffff", total being the time in
 * microseconds.  Each part carries its own sign, so no part ever has to
 * borrow from another, and pga_value_decode() reads it back. */
static int put_interval(pga_params *p, int64_t months, int64_t days, int64_t total)
{
    char text[128];
    uint64_t mag = total < 0 ? (uint64_t)(-total) : (uint64_t)total;
    uint64_t usec = mag % 1000000u;
    uint64_t secs = mag / 1000000u;
    int n = 0;
    if (months != 0) {
        n = snprintf(text, sizeof text, "%lld mons ", (long long)months);
    }
    n += snprintf(text + n, sizeof text - (size_t)n, "%lld days %c%02llu:%02llu:%02llu.%06llu",
                     (long long)days, total < 0 ? '-' : '+',
                     (unsigned long long)(secs / 3600), (unsigned long long)(secs / 60 % 60),
                     (unsigned long long)(secs % 60), (unsigned long long)usec);
    return put_text(p, OID_INTERVAL, OID_INTERVAL, text, (size_t)n);
}

int pga_params_add_interval_months(pga_params *p, int64_t months, int64_t days,
                                   int64_t microseconds)
{
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    if (microseconds == INT64_MIN) {
        return fail(p, PGA_EPARAM, "interval out of range");
    }
    return put_interval(p, months, days, microseconds);
}

int pga_params_add_local_timestamp(pga_params *p, int year, int month, int day, int hour,
                                   int minute, int second, int microsecond,
                                   int utc_offset_seconds)
{
    return add_timestamp(p, OID_UNKNOWN, year, month, day, hour, minute, second,
                         microsecond, &utc_offset_seconds);
}

int pga_params_add_interval(pga_params *p, int64_t days, int64_t seconds,
                            int64_t microseconds)
{
    const int64_t usec_per_sec = 1000000;
    if (p == NULL) {
        return PGA_EMISUSE;
    }
    /* Seconds and microseconds fold into one signed time, written the way
     * the server prints intervals ("-1 days +23:59:59.5"): each part carries
     * its own sign, so no fractional part ever has to borrow from another,
     * and pga_value_decode() reads it back. */
    if (seconds > INT64_MAX / usec_per_sec || seconds < -(INT64_MAX / usec_per_sec)) {
        return fail(p, PGA_EPARAM, "interval out of range");
    }
    int64_t total = seconds * usec_per_sec;
    if ((microseconds > 0 && total > INT64_MAX - microseconds) ||
        (microseconds < 0 && total < -INT64_MAX - microseconds)) {
        return fail(p, PGA_EPARAM, "interval out of range");
    }
    total += microseconds;
    return put_interval(p, 0, days, total);
}

/* ---- the view ----------------------------------------------------------- */

/* Valid until the next call on p.  An array still open is not part of it
 * (it is not terminated yet): bindings close every array they open. */
void pga__params_view_of(const pga_params *p, pga__params_view *out)
{
    if (p == NULL || p->count == 0) {
        out->count = 0;
        out->types = NULL;
        out->values = NULL;
        out->lengths = NULL;
        out->formats = NULL;
        return;
    }
    /* values[] is a cache of arena addresses, refreshed here because the
     * arena may have moved since the values were added. */
    for (int i = 0; i < p->count; i++) {
        p->values[i] = p->offsets[i] == NULL_OFFSET ? NULL : p->buf + p->offsets[i];
    }
    out->count = p->count;
    out->types = p->types;
    out->values = p->values;
    out->lengths = p->lengths;
    out->formats = p->formats;
}
