/* fuzz_decode.c -- result decoding on arbitrary server text: scalar values
 * of every kind, bytea, and arrays read token by token.  The text is not
 * NUL-terminated, as libpq's values are not guaranteed to be for us. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgatomic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_one(int kind, const char *text, size_t len)
{
    pga_value v;
    memset(&v, 0, sizeof(v));
    if (pga_value_decode(kind, text, len, &v) != PGA_OK) {
        return;
    }
    if (kind == PGA_T_BYTEA) {
        unsigned char *out = malloc(v.len + 1);
        if (out != NULL) {
            int64_t n = pga_bytea_decode(text, len, out);
            if (n > (int64_t)v.len) {
                abort();   /* wrote more than it announced */
            }
            free(out);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    /* PGA_T_TIMETZ is the last kind; an element is any kind but an array. */
    int kind = data[0] % (PGA_T_TIMETZ + 1);
    int elem_kind = data[1] % (PGA_T_TIMETZ + 1);
    if (elem_kind == PGA_T_ARRAY) {
        elem_kind = PGA_T_TIMETZ;
    }
    /* An exact-size copy: any read past the end is caught by ASan. */
    size_t len = size - 2;
    char *text = malloc(len ? len : 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data + 2, len);
    if (kind != PGA_T_ARRAY) {
        decode_one(kind, text, len);
    }
    else {
        pga_array_reader r;
        const char *elem;
        size_t elen;
        int tok, depth = 0;
        pga_array_reader_init(&r, text, len);
        while ((tok = pga_array_next(&r, &elem, &elen)) > 0) {
            if (tok == PGA_ARRAY_BEGIN) {
                depth++;
            }
            else if (tok == PGA_ARRAY_END) {
                if (--depth < 0) {
                    abort();   /* the reader let an unbalanced '}' through */
                }
            }
            else if (tok == PGA_ARRAY_ELEM) {
                decode_one(elem_kind, elem, elen);
            }
        }
        pga_array_reader_done(&r);
    }
    free(text);
    return 0;
}
