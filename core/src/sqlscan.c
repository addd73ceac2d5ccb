/* sqlscan.c -- owns the lexical scan of SQL text: the tokens that matter to
 * a client (literals, quoted identifiers, comments, $n placeholders, words,
 * ';'), the count of placeholders and top-level commands built on it, and
 * the rewrite of Python's %s / %(name)s placeholders into $n.  Leaves
 * parsing proper (and every syntax error) to the server. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The character classes of PostgreSQL's scan.l: identifiers and dollar-quote
 * tags start with a letter, '_' or any high-bit byte (UTF-8), and continue
 * with digits too; identifiers (not tags) may also contain '$'. */
static int is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_cont(unsigned char c)
{
    return is_ident_start(c) || is_digit(c) || c == '$';
}

static int is_tag_cont(unsigned char c)
{
    return is_ident_start(c) || is_digit(c);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Each skip_* is called on the opening delimiter and returns the position
 * just after the closing one, or NULL when the construct is unterminated:
 * the server reports that, we only must not look inside it. */

static const char *skip_quoted(const char *s, char quote, int backslash_escapes)
{
    s++;
    while (*s != '\0') {
        if (backslash_escapes && *s == '\\' && s[1] != '\0') {
            s += 2;
        }
        else if (*s == quote) {
            if (s[1] == quote) {
                s += 2;   /* '' or "" stands for one quote */
            }
            else {
                return s + 1;
            }
        }
        else {
            s++;
        }
    }
    return NULL;
}

static const char *skip_block_comment(const char *s)
{
    int depth = 0;
    while (*s != '\0') {
        if (s[0] == '/' && s[1] == '*') {
            depth++;
            s += 2;
        }
        else if (s[0] == '*' && s[1] == '/') {
            s += 2;
            if (--depth == 0) {
                return s;
            }
        }
        else {
            s++;
        }
    }
    return NULL;
}

static const char *skip_line_comment(const char *s)
{
    while (*s != '\0' && *s != '\n') {
        s++;
    }
    return s;
}

/* s points at '$'.  Returns the end of the tag's closing '$' when s opens a
 * dollar-quote ($$ or $tag$), else NULL. */
static const char *dollar_tag_end(const char *s)
{
    const char *t = s + 1;
    if (*t != '$' && !is_ident_start((unsigned char)*t)) {
        return NULL;   /* "$1" is a placeholder: tags never start with a digit */
    }
    while (is_tag_cont((unsigned char)*t)) {
        t++;
    }
    return *t == '$' ? t + 1 : NULL;
}

static const char *skip_dollar_quoted(const char *s, const char *body)
{
    size_t taglen = (size_t)(body - s);
    const char *q = body;
    while (*q != '\0') {
        if (*q == '$' && strncmp(q, s, taglen) == 0) {
            return q + taglen;
        }
        q++;
    }
    return NULL;
}

/* An unterminated construct runs to the end of the text. */
static const char *closed_or_end(pga__token *tok, const char *after)
{
    if (after == NULL) {
        tok->open = 1;
        return tok->start + strlen(tok->start);
    }
    return after;
}

/* backslash_strings: standard_conforming_strings is off, so a backslash
 * escapes in '...' as it always does in E'...'. */
static const char *lex(const char *s, pga__token *tok, int backslash_strings)
{
    unsigned char c = (unsigned char)*s;
    tok->start = s;
    tok->param = 0;
    tok->open = 0;
    if (c == '\0') {
        tok->kind = PGA__TOK_END;
    }
    else if (is_space(c)) {
        tok->kind = PGA__TOK_SPACE;
        while (is_space((unsigned char)*s)) {
            s++;
        }
    }
    else if (c == ';') {
        tok->kind = PGA__TOK_SEMICOLON;
        s++;
    }
    else if (c == '\'') {
        tok->kind = PGA__TOK_STRING;
        s = closed_or_end(tok, skip_quoted(s, '\'', backslash_strings));
    }
    else if (c == '"') {
        tok->kind = PGA__TOK_QIDENT;
        s = closed_or_end(tok, skip_quoted(s, '"', 0));
    }
    else if (c == '-' && s[1] == '-') {
        tok->kind = PGA__TOK_COMMENT;
        s = skip_line_comment(s);
    }
    else if (c == '/' && s[1] == '*') {
        tok->kind = PGA__TOK_COMMENT;
        s = closed_or_end(tok, skip_block_comment(s));
    }
    else if (c == '$' && is_digit((unsigned char)s[1])) {
        long n = 0;
        tok->kind = PGA__TOK_PARAM;
        s++;
        while (is_digit((unsigned char)*s)) {
            /* Saturate: the server rejects such a number anyway, and
             * the count must then differ from any real one. */
            n = n > (INT_MAX - 9) / 10 ? INT_MAX : n * 10 + (*s - '0');
            s++;
        }
        tok->param = (int)n;
    }
    else if (c == '$') {
        const char *body = dollar_tag_end(s);
        tok->kind = body != NULL ? PGA__TOK_STRING : PGA__TOK_OTHER;
        s = body != NULL ? closed_or_end(tok, skip_dollar_quoted(s, body)) : s + 1;
    }
    else if (is_ident_start(c)) {
        tok->kind = PGA__TOK_WORD;
        while (is_ident_cont((unsigned char)*s)) {
            s++;
        }
        /* E'...' (and e'...') is the one literal where backslash escapes,
         * so \' does not end it; a longer word before a quote (a type
         * name: date '...') is an ordinary literal, a token of its own. */
        if (s - tok->start == 1 && (c == 'E' || c == 'e') && *s == '\'') {
            tok->kind = PGA__TOK_STRING;
            s = closed_or_end(tok, skip_quoted(s, '\'', 1));
        }
    }
    else if (is_digit(c)) {
        /* Numbers are taken whole so "1$2" is not misread later. */
        tok->kind = PGA__TOK_NUMBER;
        while (is_tag_cont((unsigned char)*s) || *s == '.') {
            s++;
        }
    }
    else {
        tok->kind = PGA__TOK_OTHER;
        s++;
    }
    tok->end = s;
    return s;
}

const char *pga__sql_token(const char *s, pga__token *tok)
{
    return lex(s, tok, 0);
}

static int word_is(const pga__token *tok, const char *word)
{
    size_t n = (size_t)(tok->end - tok->start);
    if (strlen(word) != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = tok->start[i];
        if ((c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != word[i]) {
            return 0;
        }
    }
    return 1;
}

/* Where a command's opening words say its $n may be the command's own,
 * not the client's: a function or procedure body written in SQL
 * (RETURN $1, BEGIN ATOMIC ... END) and PREPARE name AS ...  */
enum { OPENING_WORD0, OPENING_CREATE, OPENING_OR, OPENING_REPLACE, OPENING_PREPARE,
       OPENING_DONE };

static int opening_step(int state, const pga__token *tok, int *unsure)
{
    if (tok->kind != PGA__TOK_WORD) {
        return OPENING_DONE;
    }
    switch (state) {
    case OPENING_WORD0:
        return word_is(tok, "create") ? OPENING_CREATE
               : word_is(tok, "prepare") ? OPENING_PREPARE : OPENING_DONE;
    case OPENING_CREATE:
    case OPENING_REPLACE:
        if (state == OPENING_CREATE && word_is(tok, "or")) {
            return OPENING_OR;
        }
        *unsure |= word_is(tok, "function") || word_is(tok, "procedure");
        return OPENING_DONE;
    case OPENING_OR:
        return word_is(tok, "replace") ? OPENING_REPLACE : OPENING_DONE;
    case OPENING_PREPARE:
        *unsure |= !word_is(tok, "transaction");
        return OPENING_DONE;
    default:
        return OPENING_DONE;
    }
}

int pga__sql_scan_opts(const char *sql, int backslash_strings, int *commands, int *unsure)
{
    int highest = 0, ncommands = 0, in_command = 0, opening = OPENING_WORD0, maybe = 0;
    pga__token tok;
    const char *s = sql != NULL ? sql : "";
    while ((s = lex(s, &tok, backslash_strings)), tok.kind != PGA__TOK_END) {
        /* A command is a ';'-separated piece holding more than blanks and
         * comments; counting them tells a script from one statement. */
        if (tok.kind == PGA__TOK_SEMICOLON) {
            ncommands += in_command;
            in_command = 0;
            opening = OPENING_WORD0;
        }
        else if (tok.kind != PGA__TOK_SPACE && tok.kind != PGA__TOK_COMMENT) {
            in_command = 1;
            if (opening != OPENING_DONE) {
                opening = opening_step(opening, &tok, &maybe);
            }
        }
        if (tok.kind == PGA__TOK_PARAM && tok.param > highest) {
            highest = tok.param;
        }
    }
    if (commands != NULL) {
        *commands = ncommands + in_command;
    }
    if (unsure != NULL) {
        *unsure = maybe;
    }
    return highest;
}

int pga__sql_scan(const char *sql, int *commands)
{
    return pga__sql_scan_opts(sql, 0, commands, NULL);
}

int pga_sql_count_params(const char *sql)
{
    return pga__sql_scan(sql, NULL);
}

/* ---------------------------------------------------------------------
 * %s / %(name)s -> $n
 * ------------------------------------------------------------------- */

struct pga_placeholders {
    char *sql;             /* the text to send, NUL-terminated */
    size_t sql_len, sql_cap;
    char *names;           /* NAMED: each distinct name, NUL-terminated, in $n order */
    size_t names_len, names_cap;
    size_t *name_at;       /* offset of name i in names */
    size_t *name_len;
    size_t nnames, name_cap;
    int *slots;            /* hash of names -> index + 1 (0: empty) */
    size_t nslots;
    int style;
    int count;
    char errmsg[160];
};

int pga_placeholders_new(pga_placeholders **out)
{
    *out = calloc(1, sizeof(**out));
    return *out != NULL ? PGA_OK : PGA_ENOMEM;
}

void pga_placeholders_free(pga_placeholders *ph)
{
    if (ph == NULL) {
        return;
    }
    free(ph->sql);
    free(ph->names);
    free(ph->name_at);
    free(ph->name_len);
    free(ph->slots);
    free(ph);
}

static int ph_fail(pga_placeholders *ph, int rc, const char *msg)
{
    snprintf(ph->errmsg, sizeof(ph->errmsg), "%s", msg);
    return rc;
}

/* What a bad placeholder looked like, for the message: "%x", or the byte. */
static int ph_bad(pga_placeholders *ph, const char *s)
{
    static const char allowed[] = "only '%s', '%b', '%t' and '%(name)s' are allowed as "
                                  "placeholders ('%%' for a percent sign)";
    unsigned char c = (unsigned char)s[1];
    if (c >= 0x20 && c < 0x7f) {
        snprintf(ph->errmsg, sizeof(ph->errmsg), "%s, got '%%%c'", allowed, c);
    }
    else {
        snprintf(ph->errmsg, sizeof(ph->errmsg), "%s, got '%%' and byte 0x%02x", allowed, c);
    }
    return PGA_EPARAM;
}

static int emit(pga_placeholders *ph, const char *s, size_t n)
{
    char *p = pga__grow(ph->sql, &ph->sql_cap, ph->sql_len + n + 1, 1);
    if (p == NULL) {
        return PGA_ENOMEM;
    }
    ph->sql = p;
    memcpy(ph->sql + ph->sql_len, s, n);
    ph->sql_len += n;
    ph->sql[ph->sql_len] = '\0';
    return PGA_OK;
}

/* Copy a literal, quoted identifier or comment: placeholders are never
 * read inside one, but "%%" still stands for "%" there, because the
 * format convention (psycopg, and the SQL that SQLAlchemy and Django
 * render for it) doubles every percent sign of the statement. */
static int emit_collapsing(pga_placeholders *ph, const char *s, const char *end)
{
    while (s < end) {
        const char *pct = memchr(s, '%', (size_t)(end - s));
        if (pct == NULL || pct + 1 >= end || pct[1] != '%') {
            const char *stop = pct == NULL ? end : pct + 1;
            if (emit(ph, s, (size_t)(stop - s)) != PGA_OK) {
                return PGA_ENOMEM;
            }
            s = stop;
            continue;
        }
        if (emit(ph, s, (size_t)(pct + 1 - s)) != PGA_OK) {
            return PGA_ENOMEM;
        }
        s = pct + 2;
    }
    return PGA_OK;
}

/* $n, set apart by blanks where it would otherwise run into a word or a
 * number ("a%s" must not become the identifier "a$1", nor "%s1" "$11"). */
static int emit_param(pga_placeholders *ph, int n, const char *next)
{
    char buf[16];
    int before = ph->sql_len > 0 && is_ident_cont((unsigned char)ph->sql[ph->sql_len - 1]);
    int after = is_ident_cont((unsigned char)*next);
    int len = snprintf(buf, sizeof(buf), "%s$%d%s", before ? " " : "", n, after ? " " : "");
    return emit(ph, buf, (size_t)len);
}

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    }
    return h;
}

static int rehash(pga_placeholders *ph, size_t nslots)
{
    int *slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL) {
        return PGA_ENOMEM;
    }
    for (size_t i = 0; i < ph->nnames; i++) {
        size_t j = name_hash(ph->names + ph->name_at[i], ph->name_len[i]) & (nslots - 1);
        while (slots[j] != 0) {
            j = (j + 1) & (nslots - 1);
        }
        slots[j] = (int)i + 1;
    }
    free(ph->slots);
    ph->slots = slots;
    ph->nslots = nslots;
    return PGA_OK;
}

/* The 1-based number of a name: the one it got at its first use, or the
 * next one. */
static int name_number(pga_placeholders *ph, const char *name, size_t len, int *number)
{
    if ((ph->nnames + 1) * 2 > ph->nslots && rehash(ph, ph->nslots ? ph->nslots * 2 : 16) != PGA_OK) {
        return PGA_ENOMEM;
    }
    size_t j = name_hash(name, len) & (ph->nslots - 1);
    for (; ph->slots[j] != 0; j = (j + 1) & (ph->nslots - 1)) {
        size_t i = (size_t)ph->slots[j] - 1;
        if (ph->name_len[i] == len && memcmp(ph->names + ph->name_at[i], name, len) == 0) {
            *number = (int)i + 1;
            return PGA_OK;
        }
    }
    size_t cap = ph->name_cap;
    size_t *at = pga__grow(ph->name_at, &cap, ph->nnames + 1, sizeof(*at));
    if (at == NULL) {
        return PGA_ENOMEM;
    }
    ph->name_at = at;
    size_t *lens = pga__grow(ph->name_len, &ph->name_cap, ph->nnames + 1, sizeof(*lens));
    if (lens == NULL) {
        return PGA_ENOMEM;
    }
    ph->name_len = lens;
    char *names = pga__grow(ph->names, &ph->names_cap, ph->names_len + len + 1, 1);
    if (names == NULL) {
        return PGA_ENOMEM;
    }
    ph->names = names;
    memcpy(ph->names + ph->names_len, name, len);
    ph->names[ph->names_len + len] = '\0';
    ph->name_at[ph->nnames] = ph->names_len;
    ph->name_len[ph->nnames] = len;
    ph->names_len += len + 1;
    ph->slots[j] = (int)++ph->nnames;
    *number = (int)ph->nnames;
    return PGA_OK;
}

static int is_format_char(char c)
{
    /* psycopg's three: %s, and %b / %t which only pick its wire format;
     * here the core picks the format, so all three mean "a value". */
    return c == 's' || c == 'b' || c == 't';
}

/* s points at a '%' outside any literal.  Emits what it stands for and
 * sets *next after it. */
static int rewrite_percent(pga_placeholders *ph, const char *s, const char **next)
{
    int style, number;
    if (s[1] == '%') {
        *next = s + 2;
        return emit(ph, "%", 1);
    }
    if (is_format_char(s[1])) {
        style = PGA_PH_POSITIONAL;
        *next = s + 2;
    }
    else if (s[1] == '(') {
        const char *close = strchr(s + 2, ')');
        if (close == NULL) {
            return ph_fail(ph, PGA_EPARAM, "incomplete placeholder: '%(' without ')'");
        }
        if (!is_format_char(close[1])) {
            int n = (int)(close - (s + 2));
            snprintf(ph->errmsg, sizeof(ph->errmsg),
                     "incomplete placeholder: '%%(%.*s%s)' must be followed by 's'",
                     n > 40 ? 40 : n, s + 2, n > 40 ? "..." : "");
            return PGA_EPARAM;
        }
        style = PGA_PH_NAMED;
        *next = close + 2;
    }
    else if (s[1] == '\0') {
        return ph_fail(ph, PGA_EPARAM, "incomplete placeholder: '%' at the end of the query");
    }
    else {
        return ph_bad(ph, s);
    }
    if (ph->style != PGA_PH_NONE && ph->style != style) {
        return ph_fail(ph, PGA_EPARAM,
                       "positional (%s) and named (%(name)s) placeholders cannot be mixed");
    }
    ph->style = style;
    if (style == PGA_PH_NAMED) {
        int rc = name_number(ph, s + 2, (size_t)(*next - 2 - (s + 2)), &number);
        if (rc != PGA_OK) {
            return rc;
        }
        ph->count = (int)ph->nnames;
    }
    else {
        if (ph->count == INT_MAX) {
            return ph_fail(ph, PGA_EPARAM, "too many placeholders");
        }
        number = ++ph->count;
    }
    return emit_param(ph, number, *next);
}

int pga_placeholders_rewrite(pga_placeholders *ph, const char *sql)
{
    pga__token tok;
    ph->sql_len = 0;
    ph->names_len = 0;
    ph->nnames = 0;
    ph->style = PGA_PH_NONE;
    ph->count = 0;
    ph->errmsg[0] = '\0';
    if (ph->slots != NULL) {
        memset(ph->slots, 0, ph->nslots * sizeof(*ph->slots));
    }
    if (sql == NULL) {
        return ph_fail(ph, PGA_EMISUSE, "the SQL text is NULL");
    }
    if (emit(ph, "", 0) != PGA_OK) {
        return ph_fail(ph, PGA_ENOMEM, "out of memory");
    }
    int dollars = pga__sql_scan(sql, NULL);
    if (dollars > 0) {
        /* PostgreSQL's own style: sent as written, '%' means nothing. */
        ph->style = PGA_PH_DOLLAR;
        ph->count = dollars;
        return emit(ph, sql, strlen(sql)) == PGA_OK
               ? PGA_OK : ph_fail(ph, PGA_ENOMEM, "out of memory");
    }
    const char *s = sql;
    int rc = PGA_OK;
    while (rc == PGA_OK && (pga__sql_token(s, &tok), tok.kind != PGA__TOK_END)) {
        s = tok.end;
        switch (tok.kind) {
        case PGA__TOK_STRING:
        case PGA__TOK_QIDENT:
        case PGA__TOK_COMMENT:
            rc = emit_collapsing(ph, tok.start, tok.end);
            break;
        case PGA__TOK_PARAM:
            /* Only possible right after a placeholder: in "%s$2" the "$2"
             * was part of the word "s$2", now it is a parameter. */
            if (tok.param > 0) {
                rc = ph_fail(ph, PGA_EPARAM, "$n and %s placeholders cannot be mixed");
                break;
            }
            rc = emit(ph, tok.start, (size_t)(tok.end - tok.start));
            break;
        case PGA__TOK_OTHER:
            if (*tok.start == '%') {
                rc = rewrite_percent(ph, tok.start, &s);
                break;
            }
            rc = emit(ph, tok.start, (size_t)(tok.end - tok.start));
            break;
        default:
            rc = emit(ph, tok.start, (size_t)(tok.end - tok.start));
            break;
        }
    }
    if (rc == PGA_ENOMEM) {
        return ph_fail(ph, PGA_ENOMEM, "out of memory");
    }
    if (rc != PGA_OK) {
        ph->style = PGA_PH_NONE;
        ph->count = 0;
        ph->nnames = 0;
    }
    return rc;
}

const char *pga_placeholders_sql(const pga_placeholders *ph)
{
    return ph->sql != NULL ? ph->sql : "";
}

int pga_placeholders_style(const pga_placeholders *ph)
{
    return ph->style;
}

int pga_placeholders_count(const pga_placeholders *ph)
{
    return ph->count;
}

const char *pga_placeholders_name(const pga_placeholders *ph, int i, size_t *len)
{
    if (i < 0 || (size_t)i >= ph->nnames) {
        return NULL;
    }
    if (len != NULL) {
        *len = ph->name_len[i];
    }
    return ph->names + ph->name_at[i];
}

const char *pga_placeholders_errmsg(const pga_placeholders *ph)
{
    return ph->errmsg;
}
