/* fuzz_sqlclass.c -- the control-statement classifier on arbitrary text: it
 * must end, stay inside the string, fill a consistent pga_control, and
 * give back the same name when that name is quoted into a new statement. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name_round_trip(const char *name)
{
    /* Quote it as a driver would: double every ". */
    char sql[2 * PGA_NAME_MAX + 32], *q = sql;
    q += sprintf(q, "RELEASE SAVEPOINT \"");
    for (const char *p = name; *p; p++) {
        if (*p == '"') {
            *q++ = '"';
        }
        *q++ = *p;
    }
    strcpy(q, "\";");
    pga_control again;
    if (pga_sql_classify(sql, &again) != PGA_CTL_RELEASE || strcmp(again.name, name) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1);
    if (sql == NULL) {
        return 0;
    }
    memcpy(sql, data, size);
    sql[size] = '\0';
    pga_control c;
    int kind = pga_sql_classify(sql, &c);
    size_t len = strnlen(c.name, sizeof(c.name));
    if (kind != c.kind || kind < PGA_CTL_NONE || kind > PGA_CTL_ROLLBACK_PREPARED
        || c.tag == NULL || (kind == PGA_CTL_NONE) != (c.tag[0] == '\0')
        || len == sizeof(c.name) || (c.modes & ~(unsigned)PGA_TXN_OPTIONS) != 0) {
        abort();
    }
    switch (kind) {
    case PGA_CTL_SAVEPOINT:
    case PGA_CTL_RELEASE:
    case PGA_CTL_ROLLBACK_TO:
        if (len == 0 || len > PGA_NAME_MAX) {
            abort();
        }
        check_name_round_trip(c.name);
        break;
    case PGA_CTL_PREPARE:
    case PGA_CTL_COMMIT_PREPARED:
    case PGA_CTL_ROLLBACK_PREPARED:
        if (len == 0 || len > PGA_GID_MAX) {
            abort();
        }
        break;
    default:
        if (len != 0) {
            abort();
        }
    }
    free(sql);
    return 0;
}
