/* hooks.c -- commit hooks: kept in registration order with the block they
 * belong to, settled (run or dropped) when that block's transaction or
 * savepoint ends, and handed back to the owner.  The core never calls a
 * hook's function. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int pga_hook_add_at(pga_conn *conn, int depth, const pga_hook *hook)
{
    if (depth < 1 || depth > conn->depth) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "no open block at that depth");
    }
    pga__held_hook *hooks = pga__grow(conn->hooks, &conn->hooks_cap, conn->nhooks + 1,
                                      sizeof(*hooks));
    if (hooks == NULL) {
        return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
    }
    conn->hooks = hooks;
    conn->hooks[conn->nhooks++] = (pga__held_hook){*hook, depth, conn->hook_seq++};
    return PGA_OK;
}

int pga_hook_add(pga_conn *conn, const pga_hook *hook)
{
    if (conn->depth == 0) {
        if (!pga__txn_needed(conn)) {
            return PGA_HOOK_NOW;
        }
        return pga__err_set(conn, PGA_EMANUAL, "%s", pga_strerror(PGA_EMANUAL));
    }
    return pga_hook_add_at(conn, conn->depth, hook);
}

/* Room for extra more ready hooks, after moving the queue to the front. */
static int ready_reserve(pga_conn *conn, size_t extra)
{
    if (conn->ready_head > 0) {
        memmove(conn->ready, conn->ready + conn->ready_head, conn->nready * sizeof(*conn->ready));
        conn->ready_head = 0;
    }
    pga__ready_hook *ready = pga__grow(conn->ready, &conn->ready_cap, conn->nready + extra,
                                       sizeof(*ready));
    if (ready == NULL) {
        return PGA_ENOMEM;
    }
    conn->ready = ready;
    return PGA_OK;
}

/* Settling happens during a step, where the owner's runtime may not be
 * callable (Python without the GIL), which is why nothing is run or
 * destroyed here: hooks only move to the ready queue, in order. */
static void settle_where(pga_conn *conn, int min_depth, uint64_t min_seq, int disposition)
{
    size_t moving = 0;
    for (size_t i = 0; i < conn->nhooks; i++) {
        moving += conn->hooks[i].depth >= min_depth && conn->hooks[i].seq >= min_seq;
    }
    if (moving == 0 || ready_reserve(conn, moving) != PGA_OK) {
        /* Out of memory: keep them registered rather than lose them;
         * pga_conn_free() still destroys them. */
        return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < conn->nhooks; i++) {
        const pga__held_hook *h = &conn->hooks[i];
        if (h->depth >= min_depth && h->seq >= min_seq) {
            conn->ready[conn->nready++] = (pga__ready_hook){h->hook, disposition};
        }
        else {
            conn->hooks[kept++] = *h;
        }
    }
    conn->nhooks = kept;
}

void pga__hooks_settle_depth(pga_conn *conn, int min_depth, int disposition)
{
    settle_where(conn, min_depth, 0, disposition);
}

void pga__hooks_settle_seq(pga_conn *conn, uint64_t seq_mark, int disposition)
{
    settle_where(conn, 0, seq_mark, disposition);
}

void pga__hooks_reparent(pga_conn *conn, int depth)
{
    for (size_t i = 0; i < conn->nhooks; i++) {
        if (conn->hooks[i].depth > depth) {
            conn->hooks[i].depth = depth;
        }
    }
}

int pga_hook_next(pga_conn *conn, pga_hook *out)
{
    if (conn->nready == 0) {
        return 0;
    }
    *out = conn->ready[conn->ready_head].hook;
    int disposition = conn->ready[conn->ready_head].disposition;
    conn->ready_head++;
    conn->nready--;
    if (conn->nready == 0) {
        conn->ready_head = 0;
    }
    return disposition;
}

/* A prepared transaction's hooks wait under its gid, not under any block:
 * it may be committed later, even from another connection of the owner's
 * (pga_hook_settle_prepared()). */
void pga__hooks_park(pga_conn *conn, const char *gid)
{
    size_t moving = conn->nhooks;
    pga__parked_hook *parked = pga__grow(conn->parked, &conn->parked_cap,
                                         conn->nparked + moving, sizeof(*parked));
    if (moving == 0 || parked == NULL) {
        /* Out of memory: keep them registered rather than lose them. */
        return;
    }
    conn->parked = parked;
    for (size_t i = 0; i < conn->nhooks; i++) {
        pga__parked_hook *h = &conn->parked[conn->nparked++];
        h->hook = conn->hooks[i].hook;
        snprintf(h->gid, sizeof(h->gid), "%s", gid);
    }
    conn->nhooks = 0;
}

int pga_hook_settle_prepared(pga_conn *conn, const char *gid, int disposition)
{
    size_t moving = 0, kept = 0;
    if (gid == NULL || (disposition != PGA_HOOK_RUN && disposition != PGA_HOOK_DROP)) {
        return pga__err_set(conn, PGA_EMISUSE, "%s", "a gid and PGA_HOOK_RUN or PGA_HOOK_DROP");
    }
    for (size_t i = 0; i < conn->nparked; i++) {
        moving += strcmp(conn->parked[i].gid, gid) == 0;
    }
    if (moving == 0) {
        return PGA_OK;
    }
    if (ready_reserve(conn, moving) != PGA_OK) {
        return pga__err_set(conn, PGA_ENOMEM, "%s", pga_strerror(PGA_ENOMEM));
    }
    for (size_t i = 0; i < conn->nparked; i++) {
        if (strcmp(conn->parked[i].gid, gid) == 0) {
            conn->ready[conn->nready++] = (pga__ready_hook){conn->parked[i].hook, disposition};
        }
        else {
            conn->parked[kept++] = conn->parked[i];
        }
    }
    conn->nparked = kept;
    return PGA_OK;
}

int pga_hook_visit(const pga_conn *conn, int (*visit)(void *data, void *arg), void *arg)
{
    int rc;
    for (size_t i = 0; i < conn->nparked; i++) {
        if ((rc = visit(conn->parked[i].hook.data, arg)) != 0) {
            return rc;
        }
    }
    for (size_t i = 0; i < conn->nhooks; i++) {
        if ((rc = visit(conn->hooks[i].hook.data, arg)) != 0) {
            return rc;
        }
    }
    for (size_t i = 0; i < conn->nready; i++) {
        if ((rc = visit(conn->ready[conn->ready_head + i].hook.data, arg)) != 0) {
            return rc;
        }
    }
    return 0;
}

void pga__hooks_destroy_all(pga_conn *conn)
{
    for (size_t i = 0; i < conn->nparked; i++) {
        if (conn->parked[i].hook.destroy != NULL) {
            conn->parked[i].hook.destroy(conn->parked[i].hook.data);
        }
    }
    conn->nparked = 0;
    for (size_t i = 0; i < conn->nhooks; i++) {
        if (conn->hooks[i].hook.destroy != NULL) {
            conn->hooks[i].hook.destroy(conn->hooks[i].hook.data);
        }
    }
    for (size_t i = 0; i < conn->nready; i++) {
        pga_hook *h = &conn->ready[conn->ready_head + i].hook;
        if (h->destroy != NULL) {
            h->destroy(h->data);
        }
    }
    conn->nhooks = 0;
    conn->nready = 0;
    conn->ready_head = 0;
}
