/* fuzz_placeholders.c -- the %s / %(name)s rewrite on arbitrary text: it
 * must end, stay inside its buffers, and say the truth about what it made:
 * the $n in the text it returns are exactly the count it reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgatomic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1);
    pga_placeholders *ph = NULL;
    if (sql == NULL || pga_placeholders_new(&ph) != PGA_OK) {
        free(sql);
        return 0;
    }
    memcpy(sql, data, size);
    sql[size] = '\0';
    int rc = pga_placeholders_rewrite(ph, sql);
    int style = pga_placeholders_style(ph), count = pga_placeholders_count(ph);
    const char *out = pga_placeholders_sql(ph);
    if (rc == PGA_OK) {
        int dollars = pga_sql_count_params(out);
        if (style == PGA_PH_DOLLAR && (strcmp(out, sql) != 0 || dollars != count)) {
            abort();
        }
        if ((style == PGA_PH_POSITIONAL || style == PGA_PH_NAMED) && dollars != count) {
            abort();
        }
        if (style == PGA_PH_NONE && (dollars != 0 || count != 0)) {
            abort();
        }
        if (strlen(out) > size * 6 + 1) {
            abort();      /* "%s" grows to at most " $n " */
        }
        for (int i = 0; style == PGA_PH_NAMED && i < count; i++) {
            size_t len = 0;
            const char *name = pga_placeholders_name(ph, i, &len);
            if (name == NULL || strlen(name) != len) {
                abort();
            }
        }
    }
    else if (rc != PGA_EPARAM || style != PGA_PH_NONE || count != 0
             || pga_placeholders_errmsg(ph)[0] == '\0') {
        abort();
    }
    pga_placeholders_free(ph);
    free(sql);
    return 0;
}
