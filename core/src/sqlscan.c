/* sqlscan.c -- owns the lexical scan of SQL text: the tokens that matter to
 * a client (literals, quoted identifiers, comments, $n placeholders, words,
 * ';'), the count of placeholders and top-level commands built on it, and
 * the rewrite of Python's %s / %(name)s placeholders into $n.  Leaves
 * parsing proper (and every syntax error) to the server. */
#include <limits.h>
#include <stddef.h>
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

const char *pga__sql_token(const char *s, pga__token *tok)
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
        s = closed_or_end(tok, skip_quoted(s, '\'', 0));
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

int pga__sql_scan(const char *sql, int *commands)
{
    int highest = 0, ncommands = 0, in_command = 0;
    pga__token tok;
    const char *s = sql != NULL ? sql : "";
    while ((s = pga__sql_token(s, &tok)), tok.kind != PGA__TOK_END) {
        /* A command is a ';'-separated piece holding more than blanks and
         * comments; counting them tells a script from one statement. */
        if (tok.kind == PGA__TOK_SEMICOLON) {
            ncommands += in_command;
            in_command = 0;
        }
        else if (tok.kind != PGA__TOK_SPACE && tok.kind != PGA__TOK_COMMENT) {
            in_command = 1;
        }
        if (tok.kind == PGA__TOK_PARAM && tok.param > highest) {
            highest = tok.param;
        }
    }
    if (commands != NULL) {
        *commands = ncommands + in_command;
    }
    return highest;
}

int pga_sql_count_params(const char *sql)
{
    return pga__sql_scan(sql, NULL);
}
