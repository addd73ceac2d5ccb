/* result.c -- the result of one statement: rows as text, column names and
 * types, command tag and row count.  Parsing values is value.c's job. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct pga_result {
    PGresult *pg;
    int64_t rowcount;
    const char *tag;      /* set: the engine answered, this is the tag */
    char **canonical;   /* nrows * ncols rewritten values, or NULL: none */
    pga__rows *rows;      /* a stream's batch: the rows are here, pg has none */
};

/* The accessors' one branch: a stream's batch keeps its rows apart. */
static int nrows_of(const pga_result *r)
{
    return r->rows != NULL ? r->rows->nrows : PQntuples(r->pg);
}

static int null_at(const pga_result *r, int row, int col)
{
    if (r->rows != NULL) {
        return r->rows->cells[(size_t)row * (size_t)r->rows->ncols + (size_t)col].len < 0;
    }
    return PQgetisnull(r->pg, row, col);
}

static const char *text_at(const pga_result *r, int row, int col, size_t *len)
{
    if (r->rows != NULL) {
        const pga__cell *c = &r->rows->cells[(size_t)row * (size_t)r->rows->ncols + (size_t)col];
        *len = c->len < 0 ? 0 : (size_t)c->len;
        return c->len < 0 ? "" : r->rows->data + c->off;
    }
    *len = (size_t)PQgetlength(r->pg, row, col);
    return PQgetvalue(r->pg, row, col);
}

/* Values the session wrote in another DateStyle or IntervalStyle get
 * their canonical text (canonical.c); one that cannot be read stays as it
 * came, so decoding it fails loudly instead of guessing. */
static int canonicalize(pga_result *r, int day_first)
{
    int nrows = nrows_of(r), ncols = PQnfields(r->pg);
    for (int col = 0; col < ncols; col++) {
        unsigned elem = 0;
        int kind = pga_type_kind((unsigned)PQftype(r->pg, col), &elem);
        int elem_kind = elem != 0 ? pga_type_kind(elem, NULL) : PGA_T_TEXT;
        if (kind != PGA_T_DATE && kind != PGA_T_TIMESTAMP && kind != PGA_T_TIMESTAMPTZ
            && kind != PGA_T_INTERVAL && kind != PGA_T_ARRAY) {
            continue;
        }
        for (int row = 0; row < nrows; row++) {
            char *text = NULL;
            size_t len;
            if (null_at(r, row, col)) {
                continue;
            }
            const char *value = text_at(r, row, col, &len);
            int rc = pga__canonical_text(kind, elem_kind, day_first, value, len, &text);
            if (rc == PGA_ENOMEM) {
                return 0;
            }
            if (rc != 1) {
                continue;
            }
            if (r->canonical == NULL) {
                r->canonical = calloc((size_t)nrows * (size_t)ncols, sizeof(char *));
                if (r->canonical == NULL) {
                    free(text);
                    return 0;
                }
            }
            r->canonical[(size_t)row * (size_t)ncols + (size_t)col] = text;
        }
    }
    return 1;
}

static void free_canonical(pga_result *r)
{
    if (r->canonical != NULL) {
        size_t n = (size_t)nrows_of(r) * (size_t)PQnfields(r->pg);
        for (size_t i = 0; i < n; i++) {
            free(r->canonical[i]);
        }
        free(r->canonical);
    }
}

/* A result over res (and rows, when a stream's batch), its values in
 * canonical form; NULL when memory ran out (res and rows stay the
 * caller's). */
static pga_result *make(PGresult *res, pga__rows *rows, int day_first)
{
    pga_result *r = malloc(sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->pg = res;
    r->tag = NULL;
    r->canonical = NULL;
    r->rows = rows;
    const char *n = PQcmdTuples(res);
    r->rowcount = (n != NULL && n[0] != '\0') ? strtoll(n, NULL, 10) : -1;
    if (!canonicalize(r, day_first)) {
        free_canonical(r);
        free(r);
        return NULL;
    }
    return r;
}

pga_result *pga__result_wrap(PGresult *res, int day_first)
{
    return make(res, NULL, day_first);
}

void pga__rows_free(pga__rows *rows)
{
    free(rows->data);
    free(rows->cells);
    memset(rows, 0, sizeof(*rows));
}

pga_result *pga__result_rows(PGresult *res, pga__rows *rows, int day_first)
{
    pga__rows *own = malloc(sizeof(*own));
    if (own == NULL) {
        return NULL;
    }
    *own = *rows;
    own->ncols = PQnfields(res);
    pga_result *r = make(res, own, day_first);
    if (r == NULL) {
        free(own);      /* the rows stay the caller's, untouched */
        return NULL;
    }
    memset(rows, 0, sizeof(*rows));
    return r;
}

pga_result *pga__result_tag(const char *tag)
{
    /* An empty command result, so every accessor works as for a real one. */
    PGresult *empty = PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK);
    pga_result *r = empty != NULL ? pga__result_wrap(empty, 0) : NULL;
    if (r == NULL) {
        PQclear(empty);
        return NULL;
    }
    r->tag = tag;
    return r;
}

void pga_result_free(pga_result *res)
{
    if (res == NULL) {
        return;
    }
    free_canonical(res);
    PQclear(res->pg);
    if (res->rows != NULL) {
        pga__rows_free(res->rows);
        free(res->rows);
    }
    free(res);
}

int pga_result_nrows(const pga_result *res)
{
    return nrows_of(res);
}

int pga_result_ncols(const pga_result *res)
{
    return PQnfields(res->pg);
}

const char *pga_result_colname(const pga_result *res, int col)
{
    return PQfname(res->pg, col);
}

unsigned pga_result_coltype(const pga_result *res, int col)
{
    return (unsigned)PQftype(res->pg, col);
}

int pga_result_coltypmod(const pga_result *res, int col)
{
    return PQfmod(res->pg, col);
}

int pga_result_colsize(const pga_result *res, int col)
{
    return PQfsize(res->pg, col);
}

const char *pga_result_status(const pga_result *res)
{
    return res->tag != NULL ? res->tag : PQcmdStatus(res->pg);
}

int64_t pga_result_rowcount(const pga_result *res)
{
    return res->rowcount;
}

int pga_result_isnull(const pga_result *res, int row, int col)
{
    return null_at(res, row, col);
}

const char *pga_result_text(const pga_result *res, int row, int col, size_t *len)
{
    const char *fixed = res->canonical != NULL
        ? res->canonical[(size_t)row * (size_t)PQnfields(res->pg) + (size_t)col] : NULL;
    if (fixed != NULL) {
        if (len != NULL) {
            *len = strlen(fixed);
        }
        return fixed;
    }
    size_t n;
    const char *text = text_at(res, row, col, &n);
    if (len != NULL) {
        *len = n;
    }
    return text;
}
