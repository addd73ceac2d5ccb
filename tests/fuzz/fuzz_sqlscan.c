/* fuzz_sqlscan.c -- the placeholder scan on arbitrary text: it must end,
 * stay inside the string and agree with itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1);
    if (sql == NULL) {
        return 0;
    }
    memcpy(sql, data, size);
    sql[size] = '\0';
    int commands = -1;
    int n = pga__sql_scan(sql, &commands);
    if (n < 0 || commands < 0 || n != pga_sql_count_params(sql)) {
        abort();
    }
    free(sql);
    return 0;
}
