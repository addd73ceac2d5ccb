/* fuzz_params.c -- parameter encoding driven by arbitrary input read as a
 * little program of add calls.  Whatever is accepted must come out as a
 * well-formed view: text values NUL-terminated with their stated length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t take64(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (int i = 0; i < 8 && *p < end; i++, (*p)++) {
        v = (v << 8) | **p;
    }
    return (int64_t)v;
}

static int take8(const uint8_t **p, const uint8_t *end)
{
    return *p < end ? *(*p)++ : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pga_params *p = NULL;
    if (pga_params_new(&p) != PGA_OK) {
        return 0;
    }
    const uint8_t *cur = data, *end = data + size;
    int open = 0;
    while (cur < end) {
        int op = take8(&cur, end) % 16;
        size_t n = (size_t)take8(&cur, end) % 32;
        if (n > (size_t)(end - cur)) {
            n = (size_t)(end - cur);
        }
        switch (op) {
        case 0: pga_params_add_null(p); break;
        case 1: pga_params_add_bool(p, take8(&cur, end) & 1); break;
        case 2: pga_params_add_int64(p, take64(&cur, end)); break;
        case 3: {
            int64_t bits = take64(&cur, end);
            double d;
            memcpy(&d, &bits, sizeof(d));
            pga_params_add_float64(p, d);
            break;
        }
        case 4: pga_params_add_numeric(p, (const char *)cur, n); cur += n; break;
        case 5: pga_params_add_text(p, (const char *)cur, n); cur += n; break;
        case 6: pga_params_add_bytea(p, cur, n); cur += n; break;
        case 7: pga_params_add_json(p, (const char *)cur, n); cur += n; break;
        case 8: {
            unsigned char u[16] = {0};
            for (int i = 0; i < 16; i++) {
                u[i] = (unsigned char)take8(&cur, end);
            }
            pga_params_add_uuid(p, u);
            break;
        }
        case 9: pga_params_add_date(p, (int)(int16_t)take64(&cur, end), take8(&cur, end), take8(&cur, end)); break;
        case 10: pga_params_add_time(p, take8(&cur, end), take8(&cur, end), take8(&cur, end), (int)take64(&cur, end)); break;
        case 11:
            pga_params_add_timestamptz(p, (int)(int16_t)take64(&cur, end), take8(&cur, end), take8(&cur, end),
                                       take8(&cur, end), take8(&cur, end), take8(&cur, end),
                                       (int)take64(&cur, end), (int)(int32_t)take64(&cur, end));
            break;
        case 12: pga_params_add_interval(p, take64(&cur, end), take64(&cur, end), take64(&cur, end)); break;
        case 13:
            if (open < 64 && pga_params_array_begin(p) == PGA_OK) {
                open++;
            }
            break;
        case 14:
            if (pga_params_array_end(p) == PGA_OK) {
                open--;
            }
            break;
        default:
            pga_params_clear(p);
            open = 0;
            break;
        }
    }
    while (open-- > 0) {
        pga_params_array_end(p);
    }
    pga__params_view v;
    pga__params_view_of(p, &v);
    if (v.count != pga_params_count(p)) {
        abort();
    }
    for (int i = 0; i < v.count; i++) {
        if (v.values[i] != NULL && v.formats[i] == 0 && strlen(v.values[i]) != (size_t)v.lengths[i]) {
            abort();   /* a text value whose length lies */
        }
    }
    pga_params_free(p);
    return 0;
}
