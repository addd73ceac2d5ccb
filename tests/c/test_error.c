/* test_error.c -- result-code names, the SQLSTATE table (sqlstate.c) and
 * its classification (error.c), without a server. */
#include "harness.h"
#include "internal.h"

static const int all_codes[] = {
#define CODE_OF(name, code, text) code,
    PGA_ERRNO_MAP(CODE_OF)
#undef CODE_OF
};
#define NCODES ((int)(sizeof all_codes / sizeof all_codes[0]))

/* ^Every code in PGA_ERRNO_MAP has a distinct name. */
TEST(err_every_code_has_a_distinct_name)
{
    for (int i = 0; i < NCODES; i++) {
        const char *name = pga_err_name(all_codes[i]);
        ASSERT(name != NULL);
        ASSERT(strcmp(name, "UNKNOWN") != 0);
        ASSERT(name[0] == 'E');
        for (int j = 0; j < i; j++) {
            ASSERT(strcmp(name, pga_err_name(all_codes[j])) != 0);
        }
    }
    ASSERT_EQ_STR("ECONN", pga_err_name(PGA_ECONN));
    ASSERT_EQ_STR("EDECODE", pga_err_name(PGA_EDECODE));
}

TEST(err_names_and_texts_come_from_the_map)
{
#define CHECK_ONE(name, code, text)                                 \
    ASSERT_EQ_STR(#name, pga_err_name(code));                       \
    ASSERT_EQ_STR(text, pga_strerror(code));
    PGA_ERRNO_MAP(CHECK_ONE)
#undef CHECK_ONE
}

TEST(err_unknown_code_is_named_unknown)
{
    ASSERT_EQ_STR("UNKNOWN", pga_err_name(PGA__ERRNO_LAST));
    ASSERT_EQ_STR("UNKNOWN", pga_err_name(12345));
    ASSERT_EQ_STR("UNKNOWN", pga_err_name(-100000));
    ASSERT(pga_strerror(12345) != NULL && pga_strerror(12345)[0] != '\0');
    ASSERT_EQ_STR("OK", pga_err_name(PGA_OK));
    ASSERT(pga_strerror(PGA_OK)[0] != '\0');
}

TEST(err_codes_are_negative_and_contiguous)
{
    for (int i = 0; i < NCODES; i++) {
        ASSERT_EQ_INT(-(i + 1), all_codes[i]);
    }
    ASSERT_EQ_INT(PGA__ERRNO_LAST, -(NCODES + 1));
}

/* ^pga_sqlstate_kind() looks up the exact SQLSTATE first ... */
TEST(sqlstate_exact_code_wins_over_its_class)
{
    ASSERT_EQ_INT(PGA_KIND_UNIQUE_VIOLATION, pga_sqlstate_kind("23505"));
    ASSERT_EQ_INT(PGA_KIND_FOREIGN_KEY_VIOLATION, pga_sqlstate_kind("23503"));
    ASSERT_EQ_INT(PGA_KIND_NOT_NULL_VIOLATION, pga_sqlstate_kind("23502"));
    ASSERT_EQ_INT(PGA_KIND_CHECK_VIOLATION, pga_sqlstate_kind("23514"));
    ASSERT_EQ_INT(PGA_KIND_EXCLUSION_VIOLATION, pga_sqlstate_kind("23P01"));
    ASSERT_EQ_INT(PGA_KIND_SERIALIZATION_FAILURE, pga_sqlstate_kind("40001"));
    ASSERT_EQ_INT(PGA_KIND_DEADLOCK_DETECTED, pga_sqlstate_kind("40P01"));
    ASSERT_EQ_INT(PGA_KIND_QUERY_CANCELED, pga_sqlstate_kind("57014"));
}

/* "2. else the base kind of its class: the first two characters, then the
 * first one, as psycopg files them" */
TEST(sqlstate_falls_back_to_its_class)
{
    static const struct {
        const char *code;
        int kind;
    } cases[] = {
        {"22012", PGA_KIND_DATA},          {"22P02", PGA_KIND_DATA},
        {"23000", PGA_KIND_INTEGRITY},     {"23001", PGA_KIND_INTEGRITY},
        {"42601", PGA_KIND_PROGRAMMING},   {"42P01", PGA_KIND_PROGRAMMING},
        {"08006", PGA_KIND_OPERATIONAL},   {"40000", PGA_KIND_OPERATIONAL},
        {"40002", PGA_KIND_OPERATIONAL},   {"53100", PGA_KIND_OPERATIONAL},
        {"57P01", PGA_KIND_OPERATIONAL},   {"58030", PGA_KIND_OPERATIONAL},
        {"0A000", PGA_KIND_NOT_SUPPORTED}, {"25P02", PGA_KIND_INTERNAL},
        {"2D000", PGA_KIND_INTERNAL},      {"XX000", PGA_KIND_INTERNAL},
        {"2BP01", PGA_KIND_INTERNAL},      {"P0001", PGA_KIND_PROGRAMMING},
        {"P0002", PGA_KIND_PROGRAMMING},   {"26000", PGA_KIND_PROGRAMMING},
        {"34000", PGA_KIND_PROGRAMMING},   {"3D000", PGA_KIND_PROGRAMMING},
        {"3F000", PGA_KIND_PROGRAMMING},   {"44000", PGA_KIND_PROGRAMMING},
        {"55P03", PGA_KIND_OPERATIONAL},   {"55006", PGA_KIND_OPERATIONAL},
        {"38000", PGA_KIND_OPERATIONAL},   {"39P01", PGA_KIND_OPERATIONAL},
        {"3B001", PGA_KIND_OPERATIONAL},   {"2F005", PGA_KIND_OPERATIONAL},
        {"27000", PGA_KIND_OPERATIONAL},   {"28P01", PGA_KIND_OPERATIONAL},
        {"54000", PGA_KIND_OPERATIONAL},   {"24000", PGA_KIND_INTERNAL},
        {"20000", PGA_KIND_PROGRAMMING},   {"21000", PGA_KIND_PROGRAMMING},
        {"10608", PGA_KIND_PROGRAMMING},   {"F0000", PGA_KIND_OPERATIONAL},
        {"HV000", PGA_KIND_OPERATIONAL},   {"HV00R", PGA_KIND_OPERATIONAL},
        {"P1000", PGA_KIND_PROGRAMMING},   {"XX001", PGA_KIND_INTERNAL},
        {"X0000", PGA_KIND_INTERNAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (pga_sqlstate_kind(cases[i].code) != cases[i].kind) {
            test_fail(__FILE__, __LINE__, "%s: expected %d, got %d", cases[i].code,
                      cases[i].kind, pga_sqlstate_kind(cases[i].code));
            return;
        }
    }
}

/* ^... else PGA_KIND_DATABASE. */
TEST(sqlstate_unknown_class_is_database)
{
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("99999"));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("01000"));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("02000"));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("09000"));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("0B000"));
}

TEST(sqlstate_null_or_malformed_is_database)
{
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind(NULL));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind(""));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("2350"));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("235050"));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("23505 "));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("23p01"));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("2"));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_sqlstate_kind("22-01"));
}

/* ^The kind a leaf kind refines: UNIQUE_VIOLATION -> INTEGRITY,
 * SERIALIZATION_FAILURE -> OPERATIONAL, ...; a base kind returns itself. */
TEST(kind_base_of_a_leaf_is_its_parent)
{
    ASSERT_EQ_INT(PGA_KIND_INTEGRITY, pga_kind_base(PGA_KIND_UNIQUE_VIOLATION));
    ASSERT_EQ_INT(PGA_KIND_INTEGRITY, pga_kind_base(PGA_KIND_FOREIGN_KEY_VIOLATION));
    ASSERT_EQ_INT(PGA_KIND_INTEGRITY, pga_kind_base(PGA_KIND_NOT_NULL_VIOLATION));
    ASSERT_EQ_INT(PGA_KIND_INTEGRITY, pga_kind_base(PGA_KIND_CHECK_VIOLATION));
    ASSERT_EQ_INT(PGA_KIND_INTEGRITY, pga_kind_base(PGA_KIND_EXCLUSION_VIOLATION));
    ASSERT_EQ_INT(PGA_KIND_OPERATIONAL, pga_kind_base(PGA_KIND_SERIALIZATION_FAILURE));
    ASSERT_EQ_INT(PGA_KIND_OPERATIONAL, pga_kind_base(PGA_KIND_DEADLOCK_DETECTED));
    ASSERT_EQ_INT(PGA_KIND_OPERATIONAL, pga_kind_base(PGA_KIND_QUERY_CANCELED));
}

TEST(kind_base_of_a_base_kind_is_itself)
{
    static const int bases[] = {PGA_KIND_DATABASE,    PGA_KIND_DATA,
                                PGA_KIND_OPERATIONAL, PGA_KIND_INTEGRITY,
                                PGA_KIND_INTERNAL,    PGA_KIND_PROGRAMMING,
                                PGA_KIND_NOT_SUPPORTED};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        ASSERT_EQ_INT(bases[i], pga_kind_base(bases[i]));
    }
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_kind_base(-1));
    ASSERT_EQ_INT(PGA_KIND_DATABASE, pga_kind_base(PGA_KIND__COUNT));
}

TEST(kind_base_agrees_with_the_class_of_its_sqlstate)
{
    static const char *const leaves[] = {"23505", "23503", "23502", "23514",
                                         "23P01", "40001", "40P01", "57014"};
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
        char cls[6];
        memcpy(cls, leaves[i], 2);
        memcpy(cls + 2, "000", 4);
        ASSERT_EQ_INT(pga_sqlstate_kind(cls), pga_kind_base(pga_sqlstate_kind(leaves[i])));
    }
}

/* "^Every kind has a distinct name." */
TEST(kind_names_follow_the_kind_map)
{
    ASSERT_EQ_STR("database", pga_kind_name(PGA_KIND_DATABASE));
    ASSERT_EQ_STR("unique_violation", pga_kind_name(PGA_KIND_UNIQUE_VIOLATION));
    ASSERT_EQ_STR("query_canceled", pga_kind_name(PGA_KIND_QUERY_CANCELED));
    ASSERT_EQ_STR("not_supported", pga_kind_name(PGA_KIND_NOT_SUPPORTED));
    for (int k = 0; k < PGA_KIND__COUNT; k++) {
        ASSERT(pga__kind_is_valid(k));
        for (int j = 0; j < k; j++) {
            ASSERT(strcmp(pga_kind_name(j), pga_kind_name(k)) != 0);
        }
    }
}

TEST(kind_out_of_range_is_invalid_and_named_database)
{
    ASSERT(!pga__kind_is_valid(-1));
    ASSERT(!pga__kind_is_valid(PGA_KIND__COUNT));
    ASSERT_EQ_STR("database", pga_kind_name(-1));
    ASSERT_EQ_STR("database", pga_kind_name(PGA_KIND__COUNT + 7));
}

/* "^The codes are distinct and ascending." */
TEST(sqlstate_table_is_ascending_and_complete)
{
    const char *prev = NULL, *code, *condition;
    int n = 0;
    while ((code = pga_sqlstate_at(n, &condition)) != NULL) {
        ASSERT(strlen(code) == 5);
        ASSERT(condition != NULL && condition[0] != '\0');
        ASSERT(prev == NULL || strcmp(prev, code) < 0);
        ASSERT_EQ_STR(condition, pga_sqlstate_condition(code));
        prev = code;
        n++;
    }
    /* PostgreSQL 18's error codes, as psycopg 3.3 names them. */
    ASSERT_EQ_INT(254, n);
    ASSERT(pga_sqlstate_at(-1, NULL) == NULL);
    ASSERT_EQ_STR("lock_not_available", pga_sqlstate_condition("55P03"));
    ASSERT_EQ_STR("unique_violation", pga_sqlstate_condition("23505"));
    ASSERT_EQ_STR("internal_error", pga_sqlstate_condition("XX000"));
    ASSERT_EQ_STR("transaction_timeout", pga_sqlstate_condition("25P04"));
    ASSERT(pga_sqlstate_condition("99999") == NULL);
    ASSERT(pga_sqlstate_condition("01000") == NULL);
    ASSERT(pga_sqlstate_condition(NULL) == NULL);
    ASSERT(pga_sqlstate_condition("2350") == NULL);
    ASSERT(pga_sqlstate_condition("235050") == NULL);
}

/* "^Several codes may share a name" */
TEST(sqlstate_conditions_may_repeat)
{
    ASSERT_EQ_STR(pga_sqlstate_condition("2F002"), pga_sqlstate_condition("38002"));
    ASSERT_EQ_STR(pga_sqlstate_condition("22004"), pga_sqlstate_condition("39004"));
}

/* "^lock_not_available (55P03) is OPERATIONAL, ^feature_not_supported
 * (0A000) NOT_SUPPORTED." */
TEST(sqlstate_lock_timeout_is_operational)
{
    ASSERT_EQ_INT(PGA_KIND_OPERATIONAL, pga_sqlstate_kind("55P03"));
    ASSERT_EQ_INT(PGA_KIND_NOT_SUPPORTED, pga_sqlstate_kind("0A000"));
}
