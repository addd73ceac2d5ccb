/* hooks.c -- commit hooks: kept in registration order, settled (run or
 * dropped) when their transaction or savepoint ends, and handed back to
 * the owner.  The core never calls a hook's function. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int pga_hook_add(pga_conn *conn, const pga_hook *hook)
{
    if (conn->depth == 0) {
        if (conn->autocommit) {
            return PGA_HOOK_NOW;
        }
        return pga__err_set(conn, PGA_EMANUAL, "%s", pga_strerror(PGA_EMANUAL));
    }
    if (conn->nhooks == conn->hooks_cap) {
        size_t cap = conn->hooks_cap ? conn->hooks_cap * 2 : 8;
        pga_hook *h = realloc(conn->hooks, cap * sizeof(*h));
        if (h == NULL) {
            return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
        }
        conn->hooks = h;
        conn->hooks_cap = cap;
    }
    conn->hooks[conn->nhooks++] = *hook;
    return PGA_OK;
}

/* Move hooks[mark..] to the ready queue, in order.  Settling happens during
 * a step, where the owner's runtime may not be callable (Python without the
 * GIL), which is why nothing is run or destroyed here. */
void pga__hooks_settle_from(pga_conn *conn, size_t mark, int disposition)
{
    if (mark >= conn->nhooks) {
        return;
    }
    size_t n = conn->nhooks - mark;
    if (conn->ready_head > 0) {
        memmove(conn->ready, conn->ready + conn->ready_head, conn->nready * sizeof(*conn->ready));
        memmove(conn->ready_disp, conn->ready_disp + conn->ready_head,
                conn->nready * sizeof(*conn->ready_disp));
        conn->ready_head = 0;
    }
    if (conn->nready + n > conn->ready_cap) {
        size_t cap = conn->ready_cap ? conn->ready_cap : 8;
        while (cap < conn->nready + n) {
            cap *= 2;
        }
        pga_hook *r = realloc(conn->ready, cap * sizeof(*r));
        if (r != NULL) {
            conn->ready = r;
        }
        int *d = realloc(conn->ready_disp, cap * sizeof(*d));
        if (d != NULL) {
            conn->ready_disp = d;
        }
        if (r == NULL || d == NULL) {
            /* Keep them registered rather than lose them: pga_conn_free()
             * still destroys them. */
            return;
        }
        conn->ready_cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        conn->ready[conn->nready + i] = conn->hooks[mark + i];
        conn->ready_disp[conn->nready + i] = disposition;
    }
    conn->nready += n;
    conn->nhooks = mark;
}

int pga_hook_next(pga_conn *conn, pga_hook *out)
{
    if (conn->nready == 0) {
        return 0;
    }
    *out = conn->ready[conn->ready_head];
    int disposition = conn->ready_disp[conn->ready_head];
    conn->ready_head++;
    conn->nready--;
    if (conn->nready == 0) {
        conn->ready_head = 0;
    }
    return disposition;
}

void pga__hooks_destroy_all(pga_conn *conn)
{
    for (size_t i = 0; i < conn->nhooks; i++) {
        if (conn->hooks[i].destroy != NULL) {
            conn->hooks[i].destroy(conn->hooks[i].data);
        }
    }
    for (size_t i = 0; i < conn->nready; i++) {
        pga_hook *h = &conn->ready[conn->ready_head + i];
        if (h->destroy != NULL) {
            h->destroy(h->data);
        }
    }
    conn->nhooks = 0;
    conn->nready = 0;
    conn->ready_head = 0;
}
