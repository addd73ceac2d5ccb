/* error.c -- owns the result-code texts and the SQLSTATE -> kind table.
 * Leaves the per-connection message and diag fields to conn.c / step.c. */
#include <stddef.h>
#include <string.h>

#include "internal.h"

const char *pga_err_name(int code)
{
    switch (code) {
    case PGA_OK:
        return "OK";
#define PGA__ERR_NAME_CASE(name, value, text) \
    case (value):                             \
        return #name;
        PGA_ERRNO_MAP(PGA__ERR_NAME_CASE)
#undef PGA__ERR_NAME_CASE
    default:
        return "UNKNOWN";
    }
}

const char *pga_strerror(int code)
{
    switch (code) {
    case PGA_OK:
        return "success";
#define PGA__STRERROR_CASE(name, value, text) \
    case (value):                             \
        return (text);
        PGA_ERRNO_MAP(PGA__STRERROR_CASE)
#undef PGA__STRERROR_CASE
    default:
        return "unknown error code";
    }
}

/* Exact codes are the refined kinds bindings expose as subclasses; the class
 * table below follows psycopg's errors.py so both bindings raise what a
 * psycopg user would catch. */
static const struct {
    char code[6];
    int kind;
} exact_codes[] = {
    {"23505", PGA_KIND_UNIQUE_VIOLATION},
    {"23503", PGA_KIND_FOREIGN_KEY_VIOLATION},
    {"23502", PGA_KIND_NOT_NULL_VIOLATION},
    {"23514", PGA_KIND_CHECK_VIOLATION},
    {"23P01", PGA_KIND_EXCLUSION_VIOLATION},
    {"40001", PGA_KIND_SERIALIZATION_FAILURE},
    {"40P01", PGA_KIND_DEADLOCK_DETECTED},
    {"57014", PGA_KIND_QUERY_CANCELED},
};

static const struct {
    char cls[3];
    int kind;
} class_codes[] = {
    {"22", PGA_KIND_DATA},
    {"23", PGA_KIND_INTEGRITY},
    {"42", PGA_KIND_PROGRAMMING},
    {"08", PGA_KIND_OPERATIONAL},
    {"40", PGA_KIND_OPERATIONAL},
    {"53", PGA_KIND_OPERATIONAL},
    {"57", PGA_KIND_OPERATIONAL},
    {"58", PGA_KIND_OPERATIONAL},
    {"0A", PGA_KIND_NOT_SUPPORTED},
    {"25", PGA_KIND_INTERNAL},
    {"2D", PGA_KIND_INTERNAL},
    {"XX", PGA_KIND_INTERNAL},
    {"2B", PGA_KIND_INTERNAL},
    /* PL/pgSQL RAISE: psycopg files it under InternalError, so do we. */
    {"P0", PGA_KIND_INTERNAL},
    {"26", PGA_KIND_PROGRAMMING},
    {"34", PGA_KIND_PROGRAMMING},
    {"3D", PGA_KIND_PROGRAMMING},
    {"3F", PGA_KIND_PROGRAMMING},
    {"44", PGA_KIND_PROGRAMMING},
};

/* SQLSTATEs are five characters of [0-9A-Z]; anything else did not come from
 * a server, so it must not pick a specific class by accident. */
static int sqlstate_is_wellformed(const char *s)
{
    for (int i = 0; i < 5; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) {
            return 0;
        }
    }
    return s[5] == '\0';
}

int pga_sqlstate_kind(const char *sqlstate)
{
    if (sqlstate == NULL || !sqlstate_is_wellformed(sqlstate)) {
        return PGA_KIND_DATABASE;
    }
    for (size_t i = 0; i < sizeof exact_codes / sizeof exact_codes[0]; i++) {
        if (memcmp(exact_codes[i].code, sqlstate, 5) == 0) {
            return exact_codes[i].kind;
        }
    }
    for (size_t i = 0; i < sizeof class_codes / sizeof class_codes[0]; i++) {
        if (memcmp(class_codes[i].cls, sqlstate, 2) == 0) {
            return class_codes[i].kind;
        }
    }
    return PGA_KIND_DATABASE;
}

int pga__kind_is_valid(int kind)
{
    return kind >= 0 && kind < PGA_KIND__COUNT;
}

const char *pga_kind_name(int kind)
{
    static const char *const names[] = {
#define PGA__KIND_NAME(name, pyname) pyname,
        PGA_KIND_MAP(PGA__KIND_NAME)
#undef PGA__KIND_NAME
    };
    /* An out-of-range kind still names a class every binding has, so a
     * corrupted value degrades to the most general error, not a crash. */
    if (!pga__kind_is_valid(kind)) {
        return names[PGA_KIND_DATABASE];
    }
    return names[kind];
}

int pga_kind_base(int kind)
{
    switch (kind) {
    case PGA_KIND_UNIQUE_VIOLATION:
    case PGA_KIND_FOREIGN_KEY_VIOLATION:
    case PGA_KIND_NOT_NULL_VIOLATION:
    case PGA_KIND_CHECK_VIOLATION:
    case PGA_KIND_EXCLUSION_VIOLATION:
        return PGA_KIND_INTEGRITY;
    case PGA_KIND_SERIALIZATION_FAILURE:
    case PGA_KIND_DEADLOCK_DETECTED:
    case PGA_KIND_QUERY_CANCELED:
        return PGA_KIND_OPERATIONAL;
    default:
        return pga__kind_is_valid(kind) ? kind : PGA_KIND_DATABASE;
    }
}
