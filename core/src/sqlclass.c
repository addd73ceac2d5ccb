/* sqlclass.c -- recognises the transaction control statements ORMs send as
 * SQL text (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO, COMMIT, ...), in
 * PostgreSQL's grammar, on the tokens of sqlscan.c's lexer.  What the
 * engine does with them is query.c's.  Anything it is not sure of is "not
 * a control statement": passing a statement through is always correct,
 * absorbing one the server would have refused never is. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* More significant tokens than the longest statement recognised
 * ("ROLLBACK TRANSACTION TO SAVEPOINT x" or a mode list) take. */
#define MAX_TOKENS 32

typedef struct words {
    pga__token tok[MAX_TOKENS];
    int n, i;
} words;

/* The keywords a bare name cannot be (PostgreSQL 15's reserved and
 * type-or-function-name keywords: pg_get_keywords() catcode R and T), so
 * SAVEPOINT select stays the server's syntax error.  Sorted. */
static const char *const reserved[] = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
    "authorization", "binary", "both", "case", "cast", "check", "collate", "collation",
    "column", "concurrently", "constraint", "create", "cross", "current_catalog",
    "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
    "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
    "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group",
    "having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull", "join",
    "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural",
    "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps",
    "placing", "primary", "references", "returning", "right", "select", "session_user",
    "similar", "some", "symmetric", "table", "tablesample", "then", "to", "trailing", "true",
    "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window",
    "with",
};

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* A word equal to kw (lower case), ignoring ASCII case as the server does. */
static int is_word(const pga__token *t, const char *kw)
{
    size_t n = strlen(kw);
    if (t->kind != PGA__TOK_WORD || (size_t)(t->end - t->start) != n) {
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        if (lower((unsigned char)t->start[k]) != kw[k]) {
            return 0;
        }
    }
    return 1;
}

static int is_reserved(const char *folded)
{
    size_t lo = 0, hi = sizeof(reserved) / sizeof(reserved[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(folded, reserved[mid]);
        if (c == 0) {
            return 1;
        }
        if (c < 0) {
            hi = mid;
        }
        else {
            lo = mid + 1;
        }
    }
    return 0;
}

/* The significant tokens of sql, without blanks, comments and one final
 * ';'.  0 when the text cannot be one recognisable statement: an
 * unterminated token, a ';' before the end, too many tokens. */
static int read_words(const char *sql, words *w)
{
    pga__token t;
    const char *s = sql;
    int semicolon = 0;
    w->n = 0;
    w->i = 0;
    while ((s = pga__sql_token(s, &t)), t.kind != PGA__TOK_END) {
        if (t.open) {
            return 0;
        }
        if (t.kind == PGA__TOK_SPACE || t.kind == PGA__TOK_COMMENT) {
            continue;
        }
        if (semicolon) {
            return 0;
        }
        if (t.kind == PGA__TOK_SEMICOLON) {
            semicolon = 1;
            continue;
        }
        if (w->n == MAX_TOKENS) {
            return 0;
        }
        w->tok[w->n++] = t;
    }
    return w->n > 0;
}

static int at_end(const words *w)
{
    return w->i == w->n;
}

/* Take the next token if it is the keyword kw. */
static int take(words *w, const char *kw)
{
    if (w->i < w->n && is_word(&w->tok[w->i], kw)) {
        w->i++;
        return 1;
    }
    return 0;
}

/* opt_transaction: an optional WORK or TRANSACTION, which changes nothing. */
static void opt_transaction(words *w)
{
    if (!take(w, "work")) {
        take(w, "transaction");
    }
}

/* A quoted token's body with its doubled quotes undone into out (cap
 * bytes with the NUL); 0 if it does not fit or is empty. */
static int unquote(const pga__token *t, char *out, size_t cap)
{
    char q = t->start[0];
    size_t n = 0;
    for (const char *p = t->start + 1; p < t->end - 1; p++) {
        if (*p == q) {
            p++;   /* the lexer only ends the token at a lone quote */
        }
        if (n + 1 >= cap) {
            return 0;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    return n > 0;
}

/* ColId: a bare name (folded to lower case; not a reserved word) or a
 * quoted one (kept as written), at most PGA_NAME_MAX bytes, since the
 * server would truncate a longer one. */
static int take_name(words *w, char *out)
{
    if (w->i >= w->n) {
        return 0;
    }
    const pga__token *t = &w->tok[w->i];
    size_t len = (size_t)(t->end - t->start);
    if (t->kind == PGA__TOK_QIDENT) {
        if (!unquote(t, out, PGA_NAME_MAX + 1)) {
            return 0;
        }
    }
    else if (t->kind == PGA__TOK_WORD && len <= PGA_NAME_MAX) {
        for (size_t k = 0; k < len; k++) {
            out[k] = (char)lower((unsigned char)t->start[k]);
        }
        out[len] = '\0';
        if (is_reserved(out)) {
            return 0;
        }
    }
    else {
        return 0;
    }
    w->i++;
    return 1;
}

/* A gid: a plain '...' literal.  E'...', dollar quotes, backslashes
 * (whose meaning depends on standard_conforming_strings) and adjacent
 * literals the server would join are left to the server. */
static int take_gid(words *w, char *out)
{
    if (w->i >= w->n) {
        return 0;
    }
    const pga__token *t = &w->tok[w->i];
    if (t->kind != PGA__TOK_STRING || t->start[0] != '\''
        || memchr(t->start, '\\', (size_t)(t->end - t->start)) != NULL
        || !unquote(t, out, PGA_GID_MAX + 1)) {
        return 0;
    }
    w->i++;
    return 1;
}

/* transaction_mode_list: items separated by ',' or nothing; the last of
 * each kind wins, as the server applies them in order. */
static int take_modes(words *w, unsigned *modes)
{
    int items = 0;
    *modes = 0;
    while (!at_end(w)) {
        if (items > 0 && w->tok[w->i].kind == PGA__TOK_OTHER && w->tok[w->i].start[0] == ',') {
            w->i++;
        }
        unsigned iso = 0, rw = 0, def = 0;
        if (take(w, "isolation")) {
            if (!take(w, "level")) {
                return 0;
            }
            if (take(w, "serializable")) {
                iso = PGA_ISO_SERIALIZABLE;
            }
            else if (take(w, "repeatable") && take(w, "read")) {
                iso = PGA_ISO_REPEATABLE_READ;
            }
            else if (take(w, "read")) {
                iso = take(w, "committed")     ? PGA_ISO_READ_COMMITTED
                      : take(w, "uncommitted") ? PGA_ISO_READ_UNCOMMITTED
                                               : 0;
            }
            if (iso == 0) {
                return 0;
            }
        }
        else if (take(w, "read")) {
            rw = take(w, "only") ? PGA_READ_ONLY : take(w, "write") ? PGA_READ_WRITE : 0;
            if (rw == 0) {
                return 0;
            }
        }
        else if (take(w, "deferrable")) {
            def = PGA_DEFERRABLE;
        }
        else if (take(w, "not")) {
            if (!take(w, "deferrable")) {
                return 0;
            }
            def = PGA_NOT_DEFERRABLE;
        }
        else {
            return 0;
        }
        *modes = pga__modes_merge(*modes, iso | rw | def);
        items++;
    }
    return 1;
}

static int finish(pga_control *out, const words *w, int kind, const char *tag)
{
    if (!at_end(w)) {
        return PGA_CTL_NONE;
    }
    out->kind = kind;
    out->tag = tag;
    return kind;
}

/* After ROLLBACK: a plain ROLLBACK, ROLLBACK TO a savepoint, or
 * ROLLBACK PREPARED. */
static int rollback(words *w, pga_control *out)
{
    if (take(w, "prepared")) {
        return take_gid(w, out->name)
                   ? finish(out, w, PGA_CTL_ROLLBACK_PREPARED, "ROLLBACK PREPARED")
                   : PGA_CTL_NONE;
    }
    opt_transaction(w);
    if (!take(w, "to")) {
        return finish(out, w, PGA_CTL_ROLLBACK, "ROLLBACK");
    }
    /* "ROLLBACK TO SAVEPOINT" alone names a savepoint called savepoint. */
    if (w->n - w->i == 2) {
        take(w, "savepoint");
    }
    return take_name(w, out->name) ? finish(out, w, PGA_CTL_ROLLBACK_TO, "ROLLBACK")
                                   : PGA_CTL_NONE;
}

static int classify(words *w, pga_control *out)
{
    if (take(w, "begin")) {
        opt_transaction(w);
        return take_modes(w, &out->modes) ? finish(out, w, PGA_CTL_BEGIN, "BEGIN")
                                          : PGA_CTL_NONE;
    }
    if (take(w, "start")) {
        return take(w, "transaction") && take_modes(w, &out->modes)
                   ? finish(out, w, PGA_CTL_BEGIN, "START TRANSACTION")
                   : PGA_CTL_NONE;
    }
    if (take(w, "set")) {
        return take(w, "transaction") && !at_end(w) && take_modes(w, &out->modes)
                   ? finish(out, w, PGA_CTL_SET_TRANSACTION, "SET")
                   : PGA_CTL_NONE;
    }
    if (take(w, "savepoint")) {
        return take_name(w, out->name) ? finish(out, w, PGA_CTL_SAVEPOINT, "SAVEPOINT")
                                       : PGA_CTL_NONE;
    }
    if (take(w, "release")) {
        /* "RELEASE SAVEPOINT" alone releases a savepoint called savepoint. */
        if (w->n - w->i == 2) {
            take(w, "savepoint");
        }
        return take_name(w, out->name) ? finish(out, w, PGA_CTL_RELEASE, "RELEASE")
                                       : PGA_CTL_NONE;
    }
    if (take(w, "commit")) {
        if (take(w, "prepared")) {
            return take_gid(w, out->name)
                       ? finish(out, w, PGA_CTL_COMMIT_PREPARED, "COMMIT PREPARED")
                       : PGA_CTL_NONE;
        }
        opt_transaction(w);
        return finish(out, w, PGA_CTL_COMMIT, "COMMIT");
    }
    if (take(w, "end")) {
        opt_transaction(w);
        return finish(out, w, PGA_CTL_COMMIT, "COMMIT");
    }
    if (take(w, "rollback")) {
        return rollback(w, out);
    }
    if (take(w, "abort")) {
        opt_transaction(w);
        return finish(out, w, PGA_CTL_ROLLBACK, "ROLLBACK");
    }
    if (take(w, "prepare")) {
        return take(w, "transaction") && take_gid(w, out->name)
                   ? finish(out, w, PGA_CTL_PREPARE, "PREPARE TRANSACTION")
                   : PGA_CTL_NONE;
    }
    return PGA_CTL_NONE;
}

int pga_sql_classify(const char *sql, pga_control *out)
{
    words w;
    memset(out, 0, sizeof(*out));
    out->tag = "";
    if (sql == NULL || !pga__utf8_valid((const unsigned char *)sql, strlen(sql))
        || !read_words(sql, &w) || classify(&w, out) == PGA_CTL_NONE) {
        memset(out, 0, sizeof(*out));
        out->tag = "";
        return PGA_CTL_NONE;
    }
    return out->kind;
}

unsigned pga__modes_merge(unsigned base, unsigned over)
{
    if (over & PGA_ISO_MASK) {
        base = (base & ~(unsigned)PGA_ISO_MASK) | (over & PGA_ISO_MASK);
    }
    if (over & (PGA_READ_ONLY | PGA_READ_WRITE)) {
        base = (base & ~(unsigned)(PGA_READ_ONLY | PGA_READ_WRITE))
               | (over & (PGA_READ_ONLY | PGA_READ_WRITE));
    }
    if (over & (PGA_DEFERRABLE | PGA_NOT_DEFERRABLE)) {
        base = (base & ~(unsigned)(PGA_DEFERRABLE | PGA_NOT_DEFERRABLE))
               | (over & (PGA_DEFERRABLE | PGA_NOT_DEFERRABLE));
    }
    return base;
}
