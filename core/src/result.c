/* result.c -- the result of one statement: rows as text, column names and
 * types, command tag and row count.  Parsing values is value.c's job. */
#include <stdlib.h>

#include "internal.h"

struct pga_result {
    PGresult *pg;
    int64_t rowcount;
    const char *tag;      /* set: the engine answered, this is the tag */
};

pga_result *pga__result_wrap(PGresult *res)
{
    pga_result *r = malloc(sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->pg = res;
    r->tag = NULL;
    const char *n = PQcmdTuples(res);
    r->rowcount = (n != NULL && n[0] != '\0') ? strtoll(n, NULL, 10) : -1;
    return r;
}

pga_result *pga__result_tag(const char *tag)
{
    /* An empty command result, so every accessor works as for a real one. */
    PGresult *empty = PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK);
    pga_result *r = empty != NULL ? pga__result_wrap(empty) : NULL;
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
    PQclear(res->pg);
    free(res);
}

int pga_result_nrows(const pga_result *res)
{
    return PQntuples(res->pg);
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
    return PQgetisnull(res->pg, row, col);
}

const char *pga_result_text(const pga_result *res, int row, int col, size_t *len)
{
    if (len != NULL) {
        *len = (size_t)PQgetlength(res->pg, row, col);
    }
    return PQgetvalue(res->pg, row, col);
}
