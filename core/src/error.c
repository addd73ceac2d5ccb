/* error.c -- owns the result-code texts and the SQLSTATE -> kind
 * classification.  Leaves the list of codes to sqlstate.c, and the
 * per-connection message and diag fields to conn.c / step.c. */
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

/* The leaf kinds: codes both bindings raise as classes of their own. */
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

/* A class's base kind, as psycopg's errors module files each class (a
 * user catching OperationalError around a lock timeout catches ours too);
 * every code of sqlstate.c's table gets from here the base psycopg gives
 * it.  Two-character classes first, then one-character ones (F, H, P, X). */
static const struct {
    char cls[3];
    int kind;
} class_codes[] = {
    {"08", PGA_KIND_OPERATIONAL},     /* connection exception */
    {"0A", PGA_KIND_NOT_SUPPORTED},   /* feature not supported */
    {"10", PGA_KIND_PROGRAMMING},     /* XQuery error */
    {"20", PGA_KIND_PROGRAMMING},     /* case not found */
    {"21", PGA_KIND_PROGRAMMING},     /* cardinality violation */
    {"22", PGA_KIND_DATA},            /* data exception */
    {"23", PGA_KIND_INTEGRITY},       /* integrity constraint violation */
    {"24", PGA_KIND_INTERNAL},        /* invalid cursor state */
    {"25", PGA_KIND_INTERNAL},        /* invalid transaction state */
    {"26", PGA_KIND_PROGRAMMING},     /* invalid SQL statement name */
    {"27", PGA_KIND_OPERATIONAL},     /* triggered data change violation */
    {"28", PGA_KIND_OPERATIONAL},     /* invalid authorization specification */
    {"2B", PGA_KIND_INTERNAL},        /* dependent privilege descriptors still exist */
    {"2D", PGA_KIND_INTERNAL},        /* invalid transaction termination */
    {"2F", PGA_KIND_OPERATIONAL},     /* SQL routine exception */
    {"34", PGA_KIND_PROGRAMMING},     /* invalid cursor name */
    {"38", PGA_KIND_OPERATIONAL},     /* external routine exception */
    {"39", PGA_KIND_OPERATIONAL},     /* external routine invocation exception */
    {"3B", PGA_KIND_OPERATIONAL},     /* savepoint exception */
    {"3D", PGA_KIND_PROGRAMMING},     /* invalid catalog name */
    {"3F", PGA_KIND_PROGRAMMING},     /* invalid schema name */
    {"40", PGA_KIND_OPERATIONAL},     /* transaction rollback */
    {"42", PGA_KIND_PROGRAMMING},     /* syntax error or access rule violation */
    {"44", PGA_KIND_PROGRAMMING},     /* WITH CHECK OPTION violation */
    {"53", PGA_KIND_OPERATIONAL},     /* insufficient resources */
    {"54", PGA_KIND_OPERATIONAL},     /* program limit exceeded */
    {"55", PGA_KIND_OPERATIONAL},     /* object not in prerequisite state */
    {"57", PGA_KIND_OPERATIONAL},     /* operator intervention */
    {"58", PGA_KIND_OPERATIONAL},     /* system error */
    {"F", PGA_KIND_OPERATIONAL},      /* configuration file error */
    {"H", PGA_KIND_OPERATIONAL},      /* foreign data wrapper error */
    {"P", PGA_KIND_PROGRAMMING},      /* PL/pgSQL error */
    {"X", PGA_KIND_INTERNAL},         /* internal error */
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
    /* The table lists two-character classes before one-character ones, so
     * the first match is the most specific. */
    for (size_t i = 0; i < sizeof class_codes / sizeof class_codes[0]; i++) {
        const char *cls = class_codes[i].cls;
        if (strncmp(cls, sqlstate, strlen(cls)) == 0) {
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
#define PGA__KIND_NAME(name, text) text,
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
