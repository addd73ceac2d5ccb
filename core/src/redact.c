/* redact.c -- keeps every part of a password out of the messages kept on a
 * connection.  libpq quotes pieces of the connection string when it
 * refuses one ('missing "=" after "..."', 'could not translate host name
 * "..."'), and a password written the wrong way (a space without quotes,
 * an '@', '/' or '?' not percent-encoded in a URI) ends up in those
 * pieces.  Leaves when to redact to conn.c. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Fragments shorter than this inside a quoted piece are left alone: two
 * letters in common with the password are chance, not a leak. */
#define FRAGMENT_MIN 3

static void star(char *p, size_t n)
{
    memset(p, '*', n);
}

/* Every whole occurrence of secret, anywhere in msg. */
static void mask_all(char *msg, const char *secret, size_t len)
{
    if (len == 0) {
        return;
    }
    for (char *p = msg; (p = strstr(p, secret)) != NULL; p += len) {
        star(p, len);
    }
}

/* The longest prefix of s[0..n) that occurs in region, or 0. */
static size_t longest_common(const char *s, size_t n, const char *region, size_t rlen)
{
    size_t best = 0;
    for (size_t start = 0; start < rlen; start++) {
        size_t k = 0;
        while (k < n && start + k < rlen && s[k] == region[start + k]) {
            k++;
        }
        if (k > best) {
            best = k;
        }
    }
    return best;
}

/* Inside each "..." piece of msg, every run of FRAGMENT_MIN or more
 * characters that also occurs in region. */
static void mask_fragments(char *msg, const char *region, size_t rlen)
{
    char *open = msg;
    while ((open = strchr(open, '"')) != NULL) {
        char *close = strchr(open + 1, '"');
        if (close == NULL) {
            close = open + strlen(open);
        }
        char *p = open + 1;
        while (p < close) {
            size_t k = longest_common(p, (size_t)(close - p), region, rlen);
            if (k >= FRAGMENT_MIN) {
                star(p, k);
                p += k;
            }
            else {
                p++;
            }
        }
        if (*close == '\0') {
            break;
        }
        open = close + 1;
    }
}

static void mask_region(char *msg, const char *region, size_t rlen)
{
    if (rlen == 0) {
        return;
    }
    char *copy = malloc(rlen + 1);
    if (copy == NULL) {
        star(msg, strlen(msg));     /* nothing shown beats a secret shown */
        return;
    }
    memcpy(copy, region, rlen);
    copy[rlen] = '\0';
    mask_all(msg, copy, rlen);
    mask_fragments(msg, copy, rlen);
    free(copy);
}

/* " key=" (a space, a word, optional blanks, '='): where the value of a
 * password written without quotes around its spaces ends. */
static int starts_keyword(const char *p)
{
    if (!isspace((unsigned char)*p)) {
        return 0;
    }
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (!isalpha((unsigned char)*p)) {
        return 0;
    }
    while (isalnum((unsigned char)*p) || *p == '_') {
        p++;
    }
    while (*p == ' ') {
        p++;
    }
    return *p == '=';
}

/* key=value strings and URI query parameters: what follows "password" and
 * '=' up to the next keyword (or '&' in a URI), quotes and all. */
static void mask_keyword_values(char *msg, const char *conninfo)
{
    for (const char *p = conninfo; (p = strstr(p, "password")) != NULL;) {
        p += strlen("password");
        const char *v = p;
        while (*v == ' ') {
            v++;
        }
        if (*v != '=') {
            continue;
        }
        v++;
        while (*v == ' ') {
            v++;
        }
        const char *end = v;
        while (*end != '\0' && *end != '&' && !starts_keyword(end)) {
            end++;
        }
        mask_region(msg, v, (size_t)(end - v));
        if (*v == '\'' && end > v + 1) {
            mask_region(msg, v + 1, (size_t)(end - v - 1));
        }
    }
}

/* scheme://user:secret@host: the secret is everything between the first
 * ':' of the authority and its last '@' (an '@' left unencoded in the
 * password moves the host, not the end of the secret).  A '/' or '?' left
 * unencoded in the password ends the authority early (libpq then reads
 * the secret's first part as the port, the rest as the path or query):
 * with no '@' in the authority, the secret runs to the string's last '@'. */
static void mask_uri_userinfo(char *msg, const char *conninfo)
{
    const char *auth = strstr(conninfo, "://");
    if (auth == NULL) {
        return;
    }
    auth += 3;
    size_t alen = strcspn(auth, "/?");
    const char *at = NULL;
    for (const char *q = auth; q < auth + alen; q++) {
        if (*q == '@') {
            at = q;
        }
    }
    if (at == NULL) {
        at = strrchr(auth, '@');
    }
    const char *colon = memchr(auth, ':', alen);
    if (at != NULL && colon != NULL && colon < at) {
        mask_region(msg, colon + 1, (size_t)(at - colon - 1));
    }
}

/* Is piece (n bytes) written as a keyword in conninfo ("bogus_option=")? */
static int is_keyword_of(const char *piece, size_t n, const char *conninfo)
{
    for (const char *p = conninfo; (p = strstr(p, "=")) != NULL; p++) {
        const char *e = p;
        while (e > conninfo && e[-1] == ' ') {
            e--;
        }
        const char *b = e;
        while (b > conninfo && (isalnum((unsigned char)b[-1]) || b[-1] == '_')) {
            b--;
        }
        if ((size_t)(e - b) == n && memcmp(b, piece, n) == 0
            && (b == conninfo || b[-1] == ' ' || b[-1] == '?' || b[-1] == '&')) {
            return 1;
        }
    }
    return 0;
}

/* A string libpq cannot parse: its messages quote pieces of it, which may
 * hold the password wherever it was written.  Every quoted piece is
 * hidden but a lone punctuation mark ("=", "]") or a keyword as written
 * ('invalid connection option "bogus"'). */
static void mask_quoted_pieces(char *msg, const char *conninfo)
{
    char *open = msg;
    while ((open = strchr(open, '"')) != NULL) {
        char *close = strchr(open + 1, '"');
        if (close == NULL) {
            star(open + 1, strlen(open + 1));
            return;
        }
        size_t n = (size_t)(close - open - 1);
        int punctuation = n == 1 && !isalnum((unsigned char)open[1]);
        if (n > 0 && !punctuation && !is_keyword_of(open + 1, n, conninfo)) {
            star(open + 1, n);
        }
        open = close + 1;
    }
}

void pga__redact(char *msg, const char *conninfo)
{
    const char *env = getenv("PGPASSWORD");
    if (env != NULL) {
        mask_region(msg, env, strlen(env));
    }
    if (conninfo == NULL) {
        return;
    }
    mask_keyword_values(msg, conninfo);
    mask_uri_userinfo(msg, conninfo);
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (opts == NULL) {
        mask_quoted_pieces(msg, conninfo);
    }
    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val != NULL) {
            /* Percent-decoded or unquoted: the form libpq itself uses. */
            mask_region(msg, o->val, strlen(o->val));
        }
    }
    PQconninfoFree(opts);
    PQfreemem(err);
}
