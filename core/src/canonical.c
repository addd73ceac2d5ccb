/* canonical.c -- owns rewriting date, time and interval text written in
 * another DateStyle or IntervalStyle into the ISO / postgres form that
 * every decoder (ours, and node-postgres's parsers over the raw text)
 * reads.  Reading each style is value.c's job; results call this. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int is_temporal(int kind)
{
    return kind == PGA_T_DATE || kind == PGA_T_TIMESTAMP || kind == PGA_T_TIMESTAMPTZ ||
           kind == PGA_T_INTERVAL;
}

/* Already canonical?  For dates, a cheap test that holds for everything
 * the server writes in ISO style and for nothing of the other styles. */
static int looks_canonical(int kind, const char *text, size_t len)
{
    if (kind == PGA_T_INTERVAL) {
        return 0;   /* decided by rewriting it and comparing */
    }
    if ((len == 8 && memcmp(text, "infinity", 8) == 0) ||
        (len == 9 && memcmp(text, "-infinity", 9) == 0)) {
        return 1;
    }
    size_t digits = 0;
    while (digits < len && text[digits] >= '0' && text[digits] <= '9') {
        digits++;
    }
    return digits >= 4 && digits < len && text[digits] == '-';
}

/* Seconds and a fraction trimmed of trailing zeros, as PostgreSQL writes. */
static int put_seconds(char *buf, size_t cap, int64_t sec, int64_t usec)
{
    if (usec == 0) {
        return snprintf(buf, cap, "%02lld", (long long)sec);
    }
    char frac[24];
    snprintf(frac, sizeof(frac), "%06lld", (long long)(usec % 1000000));
    for (int i = 5; i > 0 && frac[i] == '0'; i--) {
        frac[i] = '\0';
    }
    return snprintf(buf, cap, "%02lld.%s", (long long)sec, frac);
}

static int put_offset(char *buf, size_t cap, int offset)
{
    int a = offset < 0 ? -offset : offset;
    char sign = offset < 0 ? '-' : '+';
    if (a % 60 != 0) {
        return snprintf(buf, cap, "%c%02d:%02d:%02d", sign, a / 3600, a / 60 % 60, a % 60);
    }
    if (a % 3600 != 0) {
        return snprintf(buf, cap, "%c%02d:%02d", sign, a / 3600, a / 60 % 60);
    }
    return snprintf(buf, cap, "%c%02d", sign, a / 3600);
}

static int format_datetime(int kind, const pga_value *v, char *buf, size_t cap)
{
    int bc = v->year <= 0;
    int year = bc ? 1 - v->year : v->year;
    int n = snprintf(buf, cap, "%04d-%02d-%02d", year, v->month, v->day);
    if (kind != PGA_T_DATE) {
        n += snprintf(buf + n, cap - (size_t)n, " %02d:%02d:", v->hour, v->minute);
        n += put_seconds(buf + n, cap - (size_t)n, v->second, v->microsecond);
    }
    if (kind == PGA_T_TIMESTAMPTZ) {
        n += put_offset(buf + n, cap - (size_t)n, v->utc_offset);
    }
    if (bc) {
        n += snprintf(buf + n, cap - (size_t)n, " BC");
    }
    return n;
}

/* One part of PostgreSQL's postgres IntervalStyle: a '+' when the part
 * before it was negative, singular only for exactly 1. */
static int put_part(char *buf, size_t cap, int64_t value, const char *unit, int *first,
                    int *after_negative)
{
    if (value == 0) {
        return 0;
    }
    int n = snprintf(buf, cap, "%s%s%lld %s%s", *first ? "" : " ",
                     (*after_negative && value > 0) ? "+" : "", (long long)value, unit,
                     value != 1 ? "s" : "");
    *after_negative = value < 0;
    *first = 0;
    return n;
}

static int format_interval(const pga_value *v, char *buf, size_t cap)
{
    int64_t days = v->days - v->months * 30;
    int64_t us = v->seconds * 1000000 + v->microseconds;
    int first = 1, after_negative = 0, n = 0;
    n += put_part(buf + n, cap - (size_t)n, v->months / 12, "year", &first, &after_negative);
    n += put_part(buf + n, cap - (size_t)n, v->months % 12, "mon", &first, &after_negative);
    n += put_part(buf + n, cap - (size_t)n, days, "day", &first, &after_negative);
    if (first || us != 0) {
        int64_t a = us < 0 ? -us : us;
        n += snprintf(buf + n, cap - (size_t)n, "%s%s%02lld:%02lld:", first ? "" : " ",
                      us < 0 ? "-" : after_negative ? "+" : "", (long long)(a / 3600000000),
                      (long long)(a / 60000000 % 60));
        n += put_seconds(buf + n, cap - (size_t)n, a / 1000000 % 60, a % 1000000);
    }
    return n;
}

/* The canonical text of one scalar into buf; PGA_EDECODE if unreadable. */
static int scalar_text(int kind, int day_first, const char *text, size_t len, char *buf,
                       size_t cap)
{
    pga_value v;
    int rc = kind == PGA_T_INTERVAL ? pga_value_decode(kind, text, len, &v)
                                    : pga__decode_datetime_any(kind, text, len, day_first, &v);
    if (rc != PGA_OK) {
        return PGA_EDECODE;
    }
    if (v.infinity != 0) {
        return snprintf(buf, cap, "%s", v.infinity > 0 ? "infinity" : "-infinity");
    }
    return kind == PGA_T_INTERVAL ? format_interval(&v, buf, cap)
                                  : format_datetime(kind, &v, buf, cap);
}

/* A growing output string. */
typedef struct out_buf {
    char *p;
    size_t len, cap;
} out_buf;

static int put(out_buf *o, const char *s, size_t n)
{
    char *p = pga__grow(o->p, &o->cap, o->len + n + 1, 1);
    if (p == NULL) {
        return 0;
    }
    o->p = p;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
    return 1;
}

/* Rewrite an array literal element by element; 0 if none needed it. */
static int array_text(int elem_kind, int day_first, const char *text, size_t len, char **out)
{
    pga_array_reader r;
    const char *tok;
    size_t tok_len;
    int t, changed = 0, rc = PGA_OK, need_comma = 0;
    char one[128];
    out_buf o = {NULL, 0, 0};
    const char *brace = memchr(text, '{', len);
    if (brace == NULL || !put(&o, text, (size_t)(brace - text))) {
        free(o.p);
        return brace == NULL ? PGA_EDECODE : PGA_ENOMEM;
    }
    pga_array_reader_init(&r, text, len);
    while (rc == PGA_OK && (t = pga_array_next(&r, &tok, &tok_len)) > 0) {
        if (t != PGA_ARRAY_END && need_comma && !put(&o, ",", 1)) {
            rc = PGA_ENOMEM;
            break;
        }
        need_comma = t != PGA_ARRAY_BEGIN;
        if (t == PGA_ARRAY_BEGIN || t == PGA_ARRAY_END) {
            rc = put(&o, t == PGA_ARRAY_BEGIN ? "{" : "}", 1) ? PGA_OK : PGA_ENOMEM;
            continue;
        }
        if (t == PGA_ARRAY_NULL) {
            rc = put(&o, "NULL", 4) ? PGA_OK : PGA_ENOMEM;
            continue;
        }
        int n;
        if (looks_canonical(elem_kind, tok, tok_len) && tok_len < sizeof(one)) {
            memcpy(one, tok, tok_len);
            n = (int)tok_len;
        }
        else {
            n = scalar_text(elem_kind, day_first, tok, tok_len, one, sizeof(one));
            changed |= n != (int)tok_len || memcmp(one, tok, tok_len) != 0;
        }
        if (n < 0 || (size_t)n >= sizeof(one)) {
            rc = PGA_EDECODE;
            break;
        }
        /* Canonical dates and intervals hold no quote or backslash. */
        rc = put(&o, "\"", 1) && put(&o, one, (size_t)n) && put(&o, "\"", 1) ? PGA_OK
                                                                            : PGA_ENOMEM;
    }
    pga_array_reader_done(&r);
    if (rc == PGA_OK && t < 0) {
        rc = t;
    }
    if (rc != PGA_OK || !changed) {
        free(o.p);
        return rc;
    }
    *out = o.p;
    return 1;
}

int pga__canonical_text(int kind, int elem_kind, int day_first, const char *text,
                        size_t len, char **out)
{
    *out = NULL;
    if (kind == PGA_T_ARRAY) {
        return is_temporal(elem_kind) ? array_text(elem_kind, day_first, text, len, out) : 0;
    }
    if (!is_temporal(kind) || looks_canonical(kind, text, len)) {
        return 0;
    }
    char buf[128];
    int n = scalar_text(kind, day_first, text, len, buf, sizeof(buf));
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        return PGA_EDECODE;
    }
    if ((size_t)n == len && memcmp(buf, text, len) == 0) {
        return 0;
    }
    *out = malloc((size_t)n + 1);
    if (*out == NULL) {
        return PGA_ENOMEM;
    }
    memcpy(*out, buf, (size_t)n + 1);
    return 1;
}
