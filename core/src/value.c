/* value.c -- owns decoding PostgreSQL's text output (scalars, bytea, array
 * literals) into plain C values.  Leaves building language objects to bindings. */
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int pga_type_kind(unsigned oid, unsigned *elem_oid)
{
    unsigned elem = 0;
    int kind;
    switch (oid) {
    case 16:
        kind = PGA_T_BOOL;
        break;
    case 20:
    case 21:
    case 23:
    case 26:
        kind = PGA_T_INT;
        break;
    case 700:
    case 701:
        kind = PGA_T_FLOAT;
        break;
    case 1700:
        kind = PGA_T_NUMERIC;
        break;
    case 17:
        kind = PGA_T_BYTEA;
        break;
    case 1082:
        kind = PGA_T_DATE;
        break;
    case 1083:
        kind = PGA_T_TIME;
        break;
    case 1266:
        kind = PGA_T_TIMETZ;
        break;
    case 1114:
        kind = PGA_T_TIMESTAMP;
        break;
    case 1184:
        kind = PGA_T_TIMESTAMPTZ;
        break;
    case 1186:
        kind = PGA_T_INTERVAL;
        break;
    case 2950:
        kind = PGA_T_UUID;
        break;
    case 114:
    case 3802:
        kind = PGA_T_JSON;
        break;
    /* Arrays: the element OIDs of pg_type's typelem. */
    case 1000: elem = 16; kind = PGA_T_ARRAY; break;
    case 1005: elem = 21; kind = PGA_T_ARRAY; break;
    case 1007: elem = 23; kind = PGA_T_ARRAY; break;
    case 1016: elem = 20; kind = PGA_T_ARRAY; break;
    case 1021: elem = 700; kind = PGA_T_ARRAY; break;
    case 1022: elem = 701; kind = PGA_T_ARRAY; break;
    case 1231: elem = 1700; kind = PGA_T_ARRAY; break;
    case 1009: elem = 25; kind = PGA_T_ARRAY; break;
    case 1015: elem = 1043; kind = PGA_T_ARRAY; break;
    case 1014: elem = 1042; kind = PGA_T_ARRAY; break;
    case 1001: elem = 17; kind = PGA_T_ARRAY; break;
    case 1182: elem = 1082; kind = PGA_T_ARRAY; break;
    case 1183: elem = 1083; kind = PGA_T_ARRAY; break;
    case 1115: elem = 1114; kind = PGA_T_ARRAY; break;
    case 1185: elem = 1184; kind = PGA_T_ARRAY; break;
    case 1187: elem = 1186; kind = PGA_T_ARRAY; break;
    case 2951: elem = 2950; kind = PGA_T_ARRAY; break;
    case 199: elem = 114; kind = PGA_T_ARRAY; break;
    case 3807: elem = 3802; kind = PGA_T_ARRAY; break;
    case 1028: elem = 26; kind = PGA_T_ARRAY; break;
    case 1003: elem = 19; kind = PGA_T_ARRAY; break;
    case 1002: elem = 18; kind = PGA_T_ARRAY; break;
    case 1270: elem = 1266; kind = PGA_T_ARRAY; break;
    default:
        /* text, varchar, bpchar, name, "char" and every type we do not
         * know: their text form is the most faithful value we can give. */
        kind = PGA_T_TEXT;
        break;
    }
    if (elem_oid != NULL) {
        *elem_oid = elem;
    }
    return kind;
}

/* ---- a bounded cursor: the input is not NUL-terminated ------------------ */

typedef struct cursor {
    const char *p, *end;
} cursor;

static int at_end(const cursor *c)
{
    return c->p >= c->end;
}

static int peek_is(const cursor *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static int eat(cursor *c, char ch)
{
    if (peek_is(c, ch)) {
        c->p++;
        return 1;
    }
    return 0;
}

static int eat_word(cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) {
        return 0;
    }
    c->p += n;
    return 1;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Between min and max decimal digits into *out; no sign.  max <= 18 keeps
 * the value inside int64 without further checks. */
static int read_digits(cursor *c, int min, int max, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    while (n < max && c->p < c->end && is_digit(*c->p)) {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    if (n < min || (c->p < c->end && is_digit(*c->p))) {
        return 0;
    }
    *out = v;
    return 1;
}

/* A fraction of a second, 1 to 6 digits, scaled to microseconds. */
static int read_fraction(cursor *c, int64_t *usec)
{
    int64_t v = 0;
    int n = 0;
    while (c->p < c->end && is_digit(*c->p)) {
        if (n == 6) {
            return 0;
        }
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    if (n == 0) {
        return 0;
    }
    for (; n < 6; n++) {
        v *= 10;
    }
    *usec = v;
    return 1;
}

/* ---- dates and times ---------------------------------------------------- */

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* "YYYY-MM-DD"; the year has four or more digits (PostgreSQL dates reach
 * 5874897 AD).  The era comes later, after any time and offset. */
static int read_date(cursor *c, pga_value *out)
{
    int64_t y, m, d;
    if (!read_digits(c, 4, 9, &y) || !eat(c, '-') || !read_digits(c, 2, 2, &m) ||
        !eat(c, '-') || !read_digits(c, 2, 2, &d)) {
        return 0;
    }
    /* February 29th is checked by read_era(), once the era is known. */
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > (m == 2 ? 29 : days_in_month(y, m))) {
        return 0;
    }
    out->year = (int)y;
    out->month = (int)m;
    out->day = (int)d;
    return 1;
}

/* " BC" makes the year astronomical (1 BC is year 0), the numbering
 * pga_params_add_date() takes, so values round-trip.  Leap years follow
 * that numbering too (1 BC and 5 BC are leap), hence the late check. */
static int read_era(cursor *c, pga_value *out)
{
    if (eat_word(c, " BC")) {
        out->year = 1 - out->year;
    }
    if (out->month == 2 && out->day == 29 && !is_leap(out->year)) {
        return 0;
    }
    return 1;
}

/* "HH:MM:SS[.ffffff]"; 24:00:00 exists in time and timestamp input. */
static int read_time(cursor *c, pga_value *out)
{
    int64_t h, m, s, us = 0;
    if (!read_digits(c, 2, 2, &h) || !eat(c, ':') || !read_digits(c, 2, 2, &m) ||
        !eat(c, ':') || !read_digits(c, 2, 2, &s)) {
        return 0;
    }
    if (eat(c, '.') && !read_fraction(c, &us)) {
        return 0;
    }
    if (m > 59 || s > 59 || h > 24 || (h == 24 && (m != 0 || s != 0 || us != 0))) {
        return 0;
    }
    out->hour = (int)h;
    out->minute = (int)m;
    out->second = (int)s;
    out->microsecond = (int)us;
    return 1;
}

/* "+05", "+05:30", "+00:19:32" (local mean time offsets have seconds). */
static int read_offset(cursor *c, pga_value *out)
{
    int64_t h, m = 0, s = 0;
    int sign;
    if (eat(c, '+')) {
        sign = 1;
    }
    else if (eat(c, '-')) {
        sign = -1;
    }
    else {
        return 0;
    }
    if (!read_digits(c, 2, 2, &h)) {
        return 0;
    }
    if (eat(c, ':')) {
        if (!read_digits(c, 2, 2, &m)) {
            return 0;
        }
        if (eat(c, ':') && !read_digits(c, 2, 2, &s)) {
            return 0;
        }
    }
    if (m > 59 || s > 59) {
        return 0;
    }
    out->utc_offset = sign * (int)(h * 3600 + m * 60 + s);
    return 1;
}

static int read_infinity(const cursor *c, pga_value *out)
{
    size_t n = (size_t)(c->end - c->p);
    if (n == 8 && memcmp(c->p, "infinity", 8) == 0) {
        out->infinity = 1;
        return 1;
    }
    if (n == 9 && memcmp(c->p, "-infinity", 9) == 0) {
        out->infinity = -1;
        return 1;
    }
    return 0;
}

static int decode_datetime(int kind, cursor *c, pga_value *out)
{
    int dated = kind != PGA_T_TIME && kind != PGA_T_TIMETZ;
    if (dated && read_infinity(c, out)) {
        return 1;
    }
    if (dated) {
        if (!read_date(c, out)) {
            return 0;
        }
        if (kind != PGA_T_DATE && !eat(c, ' ')) {
            return 0;
        }
    }
    if (kind != PGA_T_DATE && !read_time(c, out)) {
        return 0;
    }
    if ((kind == PGA_T_TIMESTAMPTZ || kind == PGA_T_TIMETZ) && !read_offset(c, out)) {
        return 0;
    }
    if (dated && !read_era(c, out)) {
        return 0;
    }
    return at_end(c);
}

/* ---- dates and times in the other DateStyles ------------------------- */

static int read_month_name(cursor *c, int64_t *m)
{
    static const char names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++) {
        if (eat_word(c, names[i])) {
            *m = i + 1;
            return 1;
        }
    }
    return 0;
}

/* The zone DateStyle SQL, Postgres and German print after a timestamptz:
 * the zone database's abbreviation.  Numeric ones ("+0545", "-03") and
 * those that always mean UTC are exact; any other ("CEST", "LMT") would
 * need the zone database to place in time, so the value is refused rather
 * than guessed. */
static int read_zone_abbrev(cursor *c, pga_value *out)
{
    static const char *const utc[] = {"UTC", "GMT", "UCT", "UT", "Z", "Zulu"};
    if (peek_is(c, '+') || peek_is(c, '-')) {
        int sign = *c->p == '-' ? -1 : 1;
        int64_t h, m = 0, s = 0;
        c->p++;
        if (!read_digits(c, 2, 2, &h)) {
            return 0;
        }
        if (eat(c, ':')) {
            if (!read_digits(c, 2, 2, &m) || (eat(c, ':') && !read_digits(c, 2, 2, &s))) {
                return 0;
            }
        }
        else if (c->p < c->end && is_digit(*c->p) && !read_digits(c, 2, 2, &m)) {
            return 0;
        }
        if (m > 59 || s > 59) {
            return 0;
        }
        out->utc_offset = sign * (int)(h * 3600 + m * 60 + s);
        return 1;
    }
    for (size_t i = 0; i < sizeof(utc) / sizeof(utc[0]); i++) {
        size_t n = strlen(utc[i]);
        if ((size_t)(c->end - c->p) >= n && memcmp(c->p, utc[i], n) == 0
            && (c->p + n == c->end || c->p[n] == ' ')) {
            c->p += n;
            out->utc_offset = 0;
            return 1;
        }
    }
    return 0;
}

/* Day, month and year with sep between them, in the order given. */
static int read_dmy(cursor *c, char sep, int day_first, pga_value *out)
{
    int64_t a, b, y;
    if (!read_digits(c, 2, 2, &a) || !eat(c, sep) || !read_digits(c, 2, 2, &b) ||
        !eat(c, sep) || !read_digits(c, 4, 9, &y)) {
        return 0;
    }
    int64_t d = day_first ? a : b, m = day_first ? b : a;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > (m == 2 ? 29 : days_in_month(y, m))) {
        return 0;
    }
    out->year = (int)y, out->month = (int)m, out->day = (int)d;
    return 1;
}

/* "Wed Jan 31 12:34:56.789 2024" or, day first, "Wed 31 Jan 12:34:56.789 2024". */
static int read_postgres_timestamp(cursor *c, pga_value *out)
{
    int64_t m, d, y;
    c->p += 3;                      /* the day of the week, implied by the date */
    if (!eat(c, ' ')) {
        return 0;
    }
    if (read_month_name(c, &m)) {
        if (!eat(c, ' ') || !read_digits(c, 2, 2, &d)) {
            return 0;
        }
    }
    else if (!read_digits(c, 2, 2, &d) || !eat(c, ' ') || !read_month_name(c, &m)) {
        return 0;
    }
    if (!eat(c, ' ') || !read_time(c, out) || !eat(c, ' ') || !read_digits(c, 4, 9, &y)) {
        return 0;
    }
    if (y < 1 || d < 1 || d > (m == 2 ? 29 : days_in_month(y, m))) {
        return 0;
    }
    out->year = (int)y, out->month = (int)m, out->day = (int)d;
    return 1;
}

int pga__decode_datetime_any(int kind, const char *text, size_t len, int day_first,
                             pga_value *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    cursor c = {text, text + len};
    if (kind == PGA_T_TIME || read_infinity(&c, out)) {
        return pga_value_decode(kind, text, len, out);
    }
    if (len >= 4 && is_digit(text[0]) && is_digit(text[1]) && is_digit(text[2])
        && is_digit(text[3])) {
        return pga_value_decode(kind, text, len, out);     /* ISO */
    }
    int ok, has_time = kind != PGA_T_DATE;
    if (len >= 3 && !is_digit(text[0])) {                  /* Postgres, with a time */
        ok = has_time && read_postgres_timestamp(&c, out);
        has_time = 0;
    }
    else if (len >= 3 && text[2] == '/') {                 /* SQL */
        ok = read_dmy(&c, '/', day_first, out);
    }
    else if (len >= 3 && text[2] == '.') {                 /* German */
        ok = read_dmy(&c, '.', 1, out);
    }
    else {                                                 /* Postgres, a date */
        ok = kind == PGA_T_DATE && read_dmy(&c, '-', day_first, out);
    }
    if (ok && has_time) {
        ok = eat(&c, ' ') && read_time(&c, out);
    }
    if (ok && kind == PGA_T_TIMESTAMPTZ) {
        ok = eat(&c, ' ') && read_zone_abbrev(&c, out);
    }
    if (!ok || !read_era(&c, out) || !at_end(&c)) {
        return PGA_EDECODE;
    }
    out->s = text;
    out->len = len;
    return PGA_OK;
}

/* ---- intervals ---------------------------------------------------------- */

/* a * b + add without leaving int64; 0 on overflow. */
static int mul_add(int64_t a, int64_t b, int64_t add, int64_t *out)
{
    if (a == INT64_MIN || (a != 0 && b > INT64_MAX / (a < 0 ? -a : a))) {
        return 0;
    }
    int64_t prod = a * b;
    if ((add > 0 && prod > INT64_MAX - add) || (add < 0 && prod < INT64_MIN - add)) {
        return 0;
    }
    *out = prod + add;
    return 1;
}

/* A signed integer of up to 18 digits (PostgreSQL's int32 fields, and
 * hours up to 2562047788, all fit). */
static int read_signed(cursor *c, int64_t *out)
{
    int neg = 0;
    if (eat(c, '-')) {
        neg = 1;
    }
    else {
        eat(c, '+');
    }
    if (!read_digits(c, 1, 18, out)) {
        return 0;
    }
    if (neg) {
        *out = -*out;
    }
    return 1;
}

/* The parts of an interval as its text spells them, before folding. */
typedef struct interval_parts {
    int64_t months, days, time_us;
} interval_parts;

/* "H:MM:SS[.ffffff]" with the hour's digits already read into h (no
 * sign); the cursor is on the first ':'. */
static int read_clock(cursor *c, int64_t h, int64_t *mag)
{
    int64_t m, s, us = 0;
    if (!eat(c, ':') || !read_digits(c, 2, 2, &m) || !eat(c, ':') ||
        !read_digits(c, 2, 2, &s) || m > 59 || s > 59) {
        return 0;
    }
    if (eat(c, '.') && !read_fraction(c, &us)) {
        return 0;
    }
    return mul_add(h, 60, m, mag) && mul_add(*mag, 60, s, mag) && mul_add(*mag, 1000000, us, mag);
}

/* Seconds with an optional fraction and sign ("-6.789", "0.5") into
 * microseconds. */
static int read_seconds(cursor *c, int64_t *us_out)
{
    int neg = peek_is(c, '-');
    int64_t s, us = 0;
    if (!read_signed(c, &s)) {
        return 0;
    }
    if (eat(c, '.') && !read_fraction(c, &us)) {
        return 0;
    }
    int64_t mag;
    if (!mul_add(s < 0 ? -s : s, 1000000, us, &mag)) {
        return 0;
    }
    *us_out = neg ? -mag : mag;
    return 1;
}

/* IntervalStyle postgres: "1 year 2 mons 3 days 04:05:06.789",
 * "-1 days +23:59:59", "-00:00:01", "00:00:00".  Each part has its own sign. */
static int interval_postgres(cursor *c, interval_parts *v)
{
    int parts = 0, seen_time = 0;
    while (!at_end(c)) {
        int64_t n;
        if (parts > 0 && !eat(c, ' ')) {
            return 0;
        }
        int neg = peek_is(c, '-');
        if (!read_signed(c, &n)) {
            return 0;
        }
        if (peek_is(c, ':')) {
            /* n carries the sign, and a zero hour ("-00:00:01") only has
             * it in the text. */
            int64_t mag;
            if (seen_time || !read_clock(c, n < 0 ? -n : n, &mag)) {
                return 0;
            }
            v->time_us = neg ? -mag : mag;
            seen_time = 1;
        }
        else if (eat_word(c, " years") || eat_word(c, " year")) {
            if (!mul_add(n, 12, v->months, &v->months)) {
                return 0;
            }
        }
        else if (eat_word(c, " mons") || eat_word(c, " mon")) {
            if (!mul_add(n, 1, v->months, &v->months)) {
                return 0;
            }
        }
        else if (eat_word(c, " days") || eat_word(c, " day")) {
            if (!mul_add(n, 1, v->days, &v->days)) {
                return 0;
            }
        }
        else {
            return 0;
        }
        parts++;
    }
    return parts > 0;
}

/* IntervalStyle postgres_verbose: "@ 1 year 2 mons -3 days 4 hours 5 mins
 * 6.789 secs ago", "@ 0"; "ago" negates every part. */
static int interval_verbose(cursor *c, interval_parts *v)
{
    int64_t hours = 0, mins = 0, secs_us = 0;
    int parts = 0;
    if (!eat_word(c, "@")) {
        return 0;
    }
    while (eat(c, ' ')) {
        if (eat_word(c, "ago")) {
            if (!at_end(c) || parts == 0) {
                return 0;
            }
            v->months = -v->months, v->days = -v->days;
            hours = -hours, mins = -mins, secs_us = -secs_us;
            break;
        }
        cursor save = *c;
        int64_t n;
        if (!read_signed(c, &n)) {
            return 0;
        }
        int ok;
        if (peek_is(c, '.') || eat_word(c, " secs") || eat_word(c, " sec")) {
            *c = save;
            ok = read_seconds(c, &secs_us) && (eat_word(c, " secs") || eat_word(c, " sec"));
        }
        else if (eat_word(c, " years") || eat_word(c, " year")) {
            ok = mul_add(n, 12, v->months, &v->months);
        }
        else if (eat_word(c, " mons") || eat_word(c, " mon")) {
            ok = mul_add(n, 1, v->months, &v->months);
        }
        else if (eat_word(c, " days") || eat_word(c, " day")) {
            ok = mul_add(n, 1, v->days, &v->days);
        }
        else if (eat_word(c, " hours") || eat_word(c, " hour")) {
            ok = (hours = n, 1);
        }
        else if (eat_word(c, " mins") || eat_word(c, " min")) {
            ok = (mins = n, 1);
        }
        else {
            ok = at_end(c) && n == 0 && parts == 0;   /* "@ 0" */
        }
        if (!ok) {
            return 0;
        }
        parts++;
    }
    return at_end(c) && parts > 0 && mul_add(hours, 60, mins, &v->time_us)
           && mul_add(v->time_us, 60000000, secs_us, &v->time_us);
}

/* IntervalStyle iso_8601: "P1Y2M3DT4H5M6.789S", "P-1Y-2M3DT-4H", "PT0S". */
static int interval_iso(cursor *c, interval_parts *v)
{
    int in_time = 0, parts = 0;
    int64_t hours = 0, mins = 0, secs_us = 0;
    if (!eat(c, 'P')) {
        return 0;
    }
    while (!at_end(c)) {
        if (eat(c, 'T')) {
            if (in_time) {
                return 0;
            }
            in_time = 1;
            continue;
        }
        cursor save = *c;
        int64_t n;
        if (!read_signed(c, &n)) {
            return 0;
        }
        int ok;
        if (in_time && (peek_is(c, '.') || peek_is(c, 'S'))) {
            *c = save;
            ok = read_seconds(c, &secs_us) && eat(c, 'S');
        }
        else if (!in_time && eat(c, 'Y')) {
            ok = mul_add(n, 12, v->months, &v->months);
        }
        else if (!in_time && eat(c, 'M')) {
            ok = mul_add(n, 1, v->months, &v->months);
        }
        else if (!in_time && eat(c, 'W')) {
            ok = mul_add(n, 7, v->days, &v->days);
        }
        else if (!in_time && eat(c, 'D')) {
            ok = mul_add(n, 1, v->days, &v->days);
        }
        else if (in_time && eat(c, 'H')) {
            ok = (hours = n, 1);
        }
        else if (in_time && eat(c, 'M')) {
            ok = (mins = n, 1);
        }
        else {
            ok = 0;
        }
        if (!ok) {
            return 0;
        }
        parts++;
    }
    return parts > 0 && mul_add(hours, 60, mins, &v->time_us)
           && mul_add(v->time_us, 60000000, secs_us, &v->time_us);
}

/* IntervalStyle sql_standard: "0", "1-2" (years-months), "3 4:05:06.7",
 * "4:05:06", each with one leading sign for the whole value; or, when the
 * parts' signs differ or both year-month and day-time parts exist, all
 * three with their own signs: "+1-2 -3 +4:05:06". */
static int interval_sql(cursor *c, interval_parts *v)
{
    int ntok = 0;
    for (const char *p = c->p; p < c->end;) {
        if (++ntok > 3) {
            return 0;
        }
        while (p < c->end && *p != ' ') {
            p++;
        }
        if (p < c->end) {
            p++;
        }
    }
    if (ntok == 0) {
        return 0;
    }
    int global_neg = ntok < 3 && peek_is(c, '-');
    if (global_neg) {
        c->p++;
    }
    for (int i = 0; i < ntok; i++) {
        if (i > 0 && !eat(c, ' ')) {
            return 0;
        }
        int neg = 0;
        if (ntok == 3) {
            if (eat(c, '-')) {
                neg = 1;
            }
            else if (!eat(c, '+')) {
                return 0;
            }
        }
        int64_t a, b;
        if (!read_digits(c, 1, 18, &a)) {
            return 0;
        }
        if (eat(c, '-')) {                            /* years-months */
            if (!read_digits(c, 1, 2, &b) || b > 11 || !mul_add(a, 12, b, &a)) {
                return 0;
            }
            v->months = neg ? -a : a;
        }
        else if (peek_is(c, ':')) {                   /* hours:minutes:seconds */
            if (!read_clock(c, a, &b)) {
                return 0;
            }
            v->time_us = neg ? -b : b;
        }
        else if (at_end(c) && ntok == 1) {            /* "0" */
            if (a != 0) {
                return 0;
            }
        }
        else {                                        /* days */
            v->days = neg ? -a : a;
        }
    }
    if (!at_end(c)) {
        return 0;
    }
    if (global_neg) {
        v->months = -v->months, v->days = -v->days, v->time_us = -v->time_us;
    }
    return 1;
}

/* Any of PostgreSQL's four IntervalStyles, told apart by the text itself:
 * a pooled session may have another client's IntervalStyle, and PgBouncer
 * does not tell us (it does not track that setting). */
static int decode_interval(cursor *c, pga_value *out)
{
    cursor start = *c;
    interval_parts v = {0, 0, 0};
    int ok = interval_postgres(c, &v);
    if (!ok) {
        *c = start, v = (interval_parts){0, 0, 0};
        ok = peek_is(c, '@') ? interval_verbose(c, &v)
             : peek_is(c, 'P') ? interval_iso(c, &v)
             : interval_sql(c, &v);
    }
    /* Months fold in as 30 days, as PostgreSQL's own interval arithmetic
     * (justify_days, epoch) does; the months stay available apart. */
    if (!ok || !mul_add(v.months, 30, v.days, &out->days)) {
        return 0;
    }
    out->months = v.months;
    out->seconds = v.time_us / 1000000;
    out->microseconds = v.time_us % 1000000;   /* same sign as seconds */
    return 1;
}

/* ---- numbers ------------------------------------------------------------ */

static int decode_int(cursor *c, pga_value *out)
{
    int neg = 0;
    uint64_t v = 0, limit;
    if (eat(c, '-')) {
        neg = 1;
    }
    else {
        eat(c, '+');
    }
    limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    if (at_end(c)) {
        return 0;
    }
    while (!at_end(c)) {
        if (!is_digit(*c->p)) {
            return 0;
        }
        unsigned d = (unsigned)(*c->p - '0');
        if (v > (limit - d) / 10) {
            return 0;
        }
        v = v * 10 + d;
        c->p++;
    }
    out->i = neg ? (v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 1;
}

/* float8out writes digits, sign, '.', an exponent, or NaN / Infinity /
 * -Infinity.  strtod reads the current locale's decimal point, which a host
 * program may have changed, so '.' is swapped for it first. */
static int decode_float(cursor *c, pga_value *out)
{
    char buf[128];
    size_t n = 0, len = (size_t)(c->end - c->p);
    const char *dp = localeconv()->decimal_point;
    size_t dplen = dp != NULL ? strlen(dp) : 0;
    int swap = dplen > 0 && !(dplen == 1 && dp[0] == '.');
    if (len == 0 || len > 64) {
        return 0;
    }
    if ((len == 3 && memcmp(c->p, "NaN", 3) == 0) ||
        (len == 8 && memcmp(c->p, "Infinity", 8) == 0) ||
        (len == 9 && memcmp(c->p, "-Infinity", 9) == 0)) {
        memcpy(buf, c->p, len);
        n = len;
    }
    else {
        for (const char *s = c->p; s < c->end; s++) {
            char ch = *s;
            if (!is_digit(ch) && ch != '+' && ch != '-' && ch != '.' && ch != 'e' && ch != 'E') {
                return 0;   /* also the blanks and hex strtod would take */
            }
            if (ch == '.' && swap) {
                if (dplen > sizeof buf - n - 1) {
                    return 0;
                }
                memcpy(buf + n, dp, dplen);
                n += dplen;
            }
            else {
                buf[n++] = ch;
            }
        }
    }
    buf[n] = '\0';
    char *end;
    out->f = strtod(buf, &end);
    return end == buf + n;
}

/* numeric_out writes digits, '-', '.', and NaN / Infinity / -Infinity. */
static int numeric_text_ok(const cursor *c)
{
    size_t n = (size_t)(c->end - c->p);
    if (n == 0) {
        return 0;
    }
    if ((n == 3 && memcmp(c->p, "NaN", 3) == 0) || (n == 8 && memcmp(c->p, "Infinity", 8) == 0) ||
        (n == 9 && memcmp(c->p, "-Infinity", 9) == 0)) {
        return 1;
    }
    int digits = 0;
    for (const char *s = c->p; s < c->end; s++) {
        if (is_digit(*s)) {
            digits++;
        }
        else if (*s != '-' && *s != '+' && *s != '.' && *s != 'e' && *s != 'E') {
            return 0;
        }
    }
    return digits > 0;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

static int decode_uuid(const cursor *c, pga_value *out)
{
    if (c->end - c->p != 36) {
        return 0;
    }
    int k = 0;
    for (int i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c->p[i] != '-') {
                return 0;
            }
            i++;
            continue;
        }
        int hi = hex_value(c->p[i]), lo = hex_value(c->p[i + 1]);
        if (hi < 0 || lo < 0) {
            return 0;
        }
        out->uuid[k++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    return 1;
}

/* ---- bytea -------------------------------------------------------------- */

static int is_octal(char ch)
{
    return ch >= '0' && ch <= '7';
}

/* One pass for both measuring (out NULL) and decoding, so the size
 * pga_value_decode() reports is exactly what pga_bytea_decode() writes. */
static int64_t bytea_scan(const char *s, size_t len, unsigned char *out)
{
    int64_t n = 0;
    size_t i = 0;
    if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
        /* byteain skips blanks between hex pairs. */
        for (i = 2; i < len;) {
            if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
                i++;
                continue;
            }
            if (i + 1 >= len) {
                return PGA_EDECODE;
            }
            int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
            if (hi < 0 || lo < 0) {
                return PGA_EDECODE;
            }
            if (out != NULL) {
                out[n] = (unsigned char)(hi << 4 | lo);
            }
            n++;
            i += 2;
        }
        return n;
    }
    /* The escape format (bytea_output = escape): \\ and \ooo, the rest as is. */
    while (i < len) {
        unsigned char b;
        if (s[i] != '\\') {
            b = (unsigned char)s[i];
            i++;
        }
        else if (i + 1 < len && s[i + 1] == '\\') {
            b = '\\';
            i += 2;
        }
        else if (i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && is_octal(s[i + 2]) &&
                 is_octal(s[i + 3])) {
            b = (unsigned char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
            i += 4;
        }
        else {
            return PGA_EDECODE;
        }
        if (out != NULL) {
            out[n] = b;
        }
        n++;
    }
    return n;
}

int64_t pga_bytea_decode(const char *text, size_t len, unsigned char *out)
{
    if ((text == NULL && len > 0) || out == NULL) {
        return PGA_EDECODE;
    }
    return bytea_scan(text, len, out);
}

int pga_value_decode(int kind, const char *text, size_t len, pga_value *out)
{
    if (out == NULL) {
        return PGA_EDECODE;
    }
    memset(out, 0, sizeof *out);
    out->kind = kind;
    if (text == NULL) {
        if (len > 0) {
            return PGA_EDECODE;
        }
        text = "";
    }
    cursor c = {text, text + len};
    int ok;
    switch (kind) {
    case PGA_T_TEXT:
    case PGA_T_JSON:
    case PGA_T_ARRAY:
        ok = 1;
        break;
    case PGA_T_NUMERIC:
        ok = numeric_text_ok(&c);
        break;
    case PGA_T_BOOL:
        ok = len == 1 && (text[0] == 't' || text[0] == 'f');
        out->i = ok && text[0] == 't';
        break;
    case PGA_T_INT:
        ok = decode_int(&c, out);
        break;
    case PGA_T_FLOAT:
        ok = decode_float(&c, out);
        break;
    case PGA_T_BYTEA: {
        int64_t n = bytea_scan(text, len, NULL);
        if (n < 0) {
            return PGA_EDECODE;
        }
        out->s = text;
        out->len = (size_t)n;
        return PGA_OK;
    }
    case PGA_T_DATE:
    case PGA_T_TIME:
    case PGA_T_TIMETZ:
    case PGA_T_TIMESTAMP:
    case PGA_T_TIMESTAMPTZ:
        ok = decode_datetime(kind, &c, out);
        break;
    case PGA_T_INTERVAL:
        ok = decode_interval(&c, out);
        break;
    case PGA_T_UUID:
        ok = decode_uuid(&c, out);
        break;
    default:
        ok = 0;
        break;
    }
    if (!ok) {
        return PGA_EDECODE;
    }
    out->s = text;
    out->len = len;
    return PGA_OK;
}

/* ---- array literals ----------------------------------------------------- */

/* The reader's only state besides its position is depth: > 0 inside the
 * literal, 0 before it, and these two after it.  A separator error found
 * just after a token is recorded as READER_FAILED and reported by the next
 * call, so every token handed out was well-formed on its own. */
#define READER_DONE (-1)
#define READER_FAILED (-2)

static int array_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static void skip_space(pga_array_reader *r)
{
    while (r->p < r->end && array_space(*r->p)) {
        r->p++;
    }
}

void pga_array_reader_init(pga_array_reader *r, const char *text, size_t len)
{
    r->p = text;
    r->end = text != NULL ? text + len : text;
    r->buf = NULL;
    r->buf_cap = 0;
    r->depth = 0;
}

void pga_array_reader_done(pga_array_reader *r)
{
    if (r == NULL) {
        return;
    }
    free(r->buf);
    r->buf = NULL;
    r->buf_cap = 0;
}

static int reader_fail(pga_array_reader *r)
{
    r->depth = READER_FAILED;
    return PGA_EDECODE;
}

/* After '{': an element, a '{' or the '}' of an empty array. */
static void after_open(pga_array_reader *r)
{
    skip_space(r);
    if (r->p >= r->end || *r->p == ',') {
        r->depth = READER_FAILED;
    }
}

/* After an element or an inner '}': a ',' then anything but '}', or '}'. */
static void after_item(pga_array_reader *r)
{
    skip_space(r);
    if (r->p < r->end && *r->p == ',') {
        r->p++;
        skip_space(r);
        if (r->p >= r->end || *r->p == '}' || *r->p == ',') {
            r->depth = READER_FAILED;
        }
    }
    else if (r->p >= r->end || *r->p != '}') {
        r->depth = READER_FAILED;
    }
}

/* "[1:2]=" and "[0:1][1:3]=" precede literals whose lower bounds are not 1. */
static int skip_dimensions(pga_array_reader *r)
{
    if (r->p >= r->end || *r->p != '[') {
        return 1;
    }
    while (r->p < r->end && *r->p == '[') {
        r->p++;
        int digits = 0;
        while (r->p < r->end && *r->p != ']') {
            char ch = *r->p;
            if (!is_digit(ch) && ch != ':' && ch != '-' && ch != '+') {
                return 0;
            }
            digits += is_digit(ch);
            r->p++;
        }
        if (r->p >= r->end || digits == 0) {
            return 0;
        }
        r->p++;
        skip_space(r);
    }
    if (r->p >= r->end || *r->p != '=') {
        return 0;
    }
    r->p++;
    skip_space(r);
    return 1;
}

static int reserve_buf(pga_array_reader *r, size_t n)
{
    if (n <= r->buf_cap) {
        return 1;
    }
    size_t cap = r->buf_cap != 0 ? r->buf_cap : 64;
    while (cap < n) {
        cap *= 2;
    }
    char *buf = realloc(r->buf, cap);
    if (buf == NULL) {
        return 0;
    }
    r->buf = buf;
    r->buf_cap = cap;
    return 1;
}

/* r->p is on the opening quote.  Without escapes the element is borrowed
 * from the input; with them it is unescaped into r->buf. */
static int read_quoted(pga_array_reader *r, const char **text, size_t *len)
{
    const char *start = ++r->p;
    int escaped = 0;
    const char *s = start;
    while (s < r->end && *s != '"') {
        if (*s == '\\') {
            escaped = 1;
            s++;
            if (s >= r->end) {
                return reader_fail(r);
            }
        }
        s++;
    }
    if (s >= r->end) {
        return reader_fail(r);
    }
    if (!escaped) {
        *text = start;
        *len = (size_t)(s - start);
    }
    else {
        if (!reserve_buf(r, (size_t)(s - start))) {
            r->depth = READER_FAILED;
            return PGA_ENOMEM;
        }
        size_t n = 0;
        for (const char *q = start; q < s; q++) {
            if (*q == '\\') {
                q++;
            }
            r->buf[n++] = *q;
        }
        *text = r->buf;
        *len = n;
    }
    r->p = s + 1;
    return PGA_ARRAY_ELEM;
}

/* r->p is on the first non-blank character.  array_in ends an unquoted
 * element at ',' or '}', keeps inner blanks, drops trailing unescaped
 * blanks, and reads a bare NULL (any case, unescaped) as null. */
static int read_unquoted(pga_array_reader *r, const char **text, size_t *len)
{
    const char *start = r->p;
    const char *s = start;
    int escaped = 0;
    while (s < r->end && *s != ',' && *s != '}') {
        if (*s == '{' || *s == '"') {
            return reader_fail(r);
        }
        if (*s == '\\') {
            escaped = 1;
            s++;
            if (s >= r->end) {
                return reader_fail(r);
            }
        }
        s++;
    }
    if (!escaped) {
        const char *e = s;
        while (e > start && array_space(e[-1])) {
            e--;
        }
        *text = start;
        *len = (size_t)(e - start);
        r->p = s;
        if (*len == 4 && (start[0] | 0x20) == 'n' && (start[1] | 0x20) == 'u' &&
            (start[2] | 0x20) == 'l' && (start[3] | 0x20) == 'l') {
            *text = NULL;
            *len = 0;
            return PGA_ARRAY_NULL;
        }
        return PGA_ARRAY_ELEM;
    }
    if (!reserve_buf(r, (size_t)(s - start))) {
        r->depth = READER_FAILED;
        return PGA_ENOMEM;
    }
    size_t n = 0, keep = 0;
    for (const char *q = start; q < s; q++) {
        if (*q == '\\') {
            r->buf[n++] = *++q;
            keep = n;   /* an escaped blank is data, never trimmed */
        }
        else {
            r->buf[n++] = *q;
            if (!array_space(*q)) {
                keep = n;
            }
        }
    }
    *text = r->buf;
    *len = keep;
    r->p = s;
    return PGA_ARRAY_ELEM;
}

int pga_array_next(pga_array_reader *r, const char **text, size_t *len)
{
    const char *t = NULL;
    size_t n = 0;
    int tok;
    if (text != NULL) {
        *text = NULL;
    }
    if (len != NULL) {
        *len = 0;
    }
    if (r == NULL || r->depth == READER_FAILED) {
        return PGA_EDECODE;
    }
    if (r->depth == READER_DONE) {
        return 0;
    }
    if (r->p == NULL) {
        return reader_fail(r);
    }
    if (r->depth == 0) {
        skip_space(r);
        if (!skip_dimensions(r) || r->p >= r->end || *r->p != '{') {
            return reader_fail(r);
        }
        r->p++;
        r->depth = 1;
        after_open(r);
        return PGA_ARRAY_BEGIN;
    }
    if (r->p >= r->end) {
        return reader_fail(r);
    }
    switch (*r->p) {
    case '{':
        if (r->depth == INT_MAX) {
            return reader_fail(r);
        }
        r->p++;
        r->depth++;
        after_open(r);
        return PGA_ARRAY_BEGIN;
    case '}':
        r->p++;
        r->depth--;
        if (r->depth == 0) {
            skip_space(r);
            r->depth = r->p == r->end ? READER_DONE : READER_FAILED;
        }
        else {
            after_item(r);
        }
        return PGA_ARRAY_END;
    case ',':
        return reader_fail(r);
    case '"':
        tok = read_quoted(r, &t, &n);
        break;
    default:
        tok = read_unquoted(r, &t, &n);
        break;
    }
    if (tok < 0) {
        return tok;
    }
    after_item(r);
    if (text != NULL) {
        *text = t;
    }
    if (len != NULL) {
        *len = n;
    }
    return tok;
}
