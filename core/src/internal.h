/* internal.h -- declarations shared by the core's files, never installed.
 * Owns the pga__ names; the public contract stays in pgatomic.h. */
#ifndef PGA_INTERNAL_H
#define PGA_INTERNAL_H

#include "pgatomic.h"

/* params.c: the encoded form, ready for PQsendQueryParams().  Arrays stay
 * owned by the pga_params; values[i] is NULL for SQL NULL; formats[i] is 1
 * for binary (bytea travels raw) and 0 for text. */
typedef struct pga__params_view {
    int count;
    const unsigned *types;
    const char *const *values;
    const int *lengths;
    const int *formats;
} pga__params_view;

void pga__params_view_of(const pga_params *p, pga__params_view *out);

/* error.c */
int pga__kind_is_valid(int kind);

/* wait.c: poll one socket for the PGA_WANT_* mask; returns a PGA_READY_*
 * mask, 0 on timeout, or PGA_READY_READ|PGA_READY_WRITE on error so the
 * step function finds out what happened. */
int pga__poll(int fd, int want, int timeout_ms);

#endif
