/* notify.c -- LISTEN/NOTIFY: notifications libpq parsed are moved into a
 * bounded queue on the connection, so a session nobody asks never grows
 * libpq's list without end.  Reading the socket is step.c's and conn.c's. */
#include <stdlib.h>

#include "internal.h"

static void drop_oldest(pga_conn *conn)
{
    PQfreemem(conn->notes[conn->notes_head]);
    conn->notes_head = (conn->notes_head + 1) % conn->notes_cap;
    conn->nnotes--;
    conn->notes_dropped++;
}

/* Append one, growing the ring by doubling up to PGA_NOTIFY_MAX.  When it
 * cannot grow (the bound, or no memory) the oldest makes room. */
static void push(pga_conn *conn, PGnotify *n)
{
    if (conn->nnotes == conn->notes_cap) {
        size_t cap = conn->notes_cap != 0 ? conn->notes_cap * 2 : 16;
        if (cap > PGA_NOTIFY_MAX) {
            cap = PGA_NOTIFY_MAX;
        }
        PGnotify **ring = cap > conn->notes_cap ? malloc(cap * sizeof(*ring)) : NULL;
        if (ring != NULL) {
            for (size_t i = 0; i < conn->nnotes; i++) {
                ring[i] = conn->notes[(conn->notes_head + i) % conn->notes_cap];
            }
            free(conn->notes);
            conn->notes = ring;
            conn->notes_cap = cap;
            conn->notes_head = 0;
        }
        else if (conn->notes_cap == 0) {
            PQfreemem(n);
            conn->notes_dropped++;
            return;
        }
        else {
            drop_oldest(conn);
        }
    }
    conn->notes[(conn->notes_head + conn->nnotes) % conn->notes_cap] = n;
    conn->nnotes++;
}

void pga__notify_collect(pga_conn *conn)
{
    if (conn->pg == NULL) {
        return;
    }
    PGnotify *n;
    while ((n = PQnotifies(conn->pg)) != NULL) {
        push(conn, n);
    }
}

int pga_notification_next(pga_conn *conn, pga_notification *out)
{
    PQfreemem(conn->note_taken);
    conn->note_taken = NULL;
    /* Mid-operation the step's own reads collect them. */
    if (conn->op == PGA__OP_NONE) {
        pga__notify_collect(conn);
    }
    if (conn->nnotes == 0) {
        return 0;
    }
    PGnotify *n = conn->notes[conn->notes_head];
    conn->notes_head = (conn->notes_head + 1) % conn->notes_cap;
    conn->nnotes--;
    conn->note_taken = n;
    if (out != NULL) {
        out->channel = n->relname;
        out->payload = n->extra != NULL ? n->extra : "";
        out->pid = n->be_pid;
    }
    return 1;
}

uint64_t pga_notifications_dropped(const pga_conn *conn)
{
    return conn->notes_dropped;
}

void pga__notify_free_all(pga_conn *conn)
{
    while (conn->nnotes > 0) {
        PQfreemem(conn->notes[conn->notes_head]);
        conn->notes_head = (conn->notes_head + 1) % conn->notes_cap;
        conn->nnotes--;
    }
    free(conn->notes);
    conn->notes = NULL;
    conn->notes_cap = 0;
    PQfreemem(conn->note_taken);
    conn->note_taken = NULL;
}
