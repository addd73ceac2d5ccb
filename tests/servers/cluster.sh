#!/usr/bin/env bash
# cluster.sh -- throwaway servers for the deployment tests (issue 13): a
# primary on a free TCP port, a streaming standby of it, PgBouncer in front
# of a server, and freezing a server whole (SIGSTOP on every process of it)
# the way a hung host looks from outside.
#
#   cluster.sh primary              start a primary; prints DIR PORT
#   cluster.sh standby PRIMARY_DIR  pg_basebackup -R of it, started; DIR PORT
#   cluster.sh promote DIR          promote a standby (waits until it is)
#   cluster.sh freeze DIR           SIGSTOP the postmaster and all its children
#   cluster.sh thaw DIR             SIGCONT them (safe to call any time)
#   cluster.sh crash DIR            SIGKILL the postmaster (children follow)
#   cluster.sh stop DIR             thaw, stop, remove DIR
#   cluster.sh bouncer MODE HOST PORT   PgBouncer (stock settings but where
#                                   it listens and whom it lets in) in pool
#                                   mode MODE before the server at HOST:PORT
#                                   (HOST may be a socket dir); prints DIR PORT
#   cluster.sh bouncer-stop DIR
#
# Servers listen on 127.0.0.1 only, trust authentication (throwaway data),
# fsync off.  As root they run as the postgres user (initdb and PgBouncer
# refuse root).  Every process started here is stopped by `stop` /
# `bouncer-stop`; callers run those from a trap or finally.
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

as_owner() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

new_dir() {
    local dir
    dir=$(mktemp -d /tmp/pgacluster.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    echo "$dir"
}

server_opts() {
    echo "-c listen_addresses=127.0.0.1 -p $2 -k $1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 -c wal_level=replica -c max_wal_senders=5 -c hot_standby=on -c wal_keep_size=64MB"
}

start_server() {
    local dir=$1 port=$2
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "$(server_opts "$dir" "$port")" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
}

# The postmaster and every process it started.
pids_of() {
    local dir=$1 pm
    [ -f "$dir/data/postmaster.pid" ] || return 0
    pm=$(head -n 1 "$dir/data/postmaster.pid")
    [ -n "$pm" ] && [ -d "/proc/$pm" ] || return 0
    echo "$pm"
    ps -o pid= --ppid "$pm" 2>/dev/null || true
}

case "${1:-}" in
    primary)
        dir=$(new_dir)
        as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
        printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' \
            'local replication all trust' 'host replication all 127.0.0.1/32 trust' \
            >"$dir/data/pg_hba.conf"
        start_server "$dir" "$(free_port)"
        echo "$dir $(cat "$dir/port")" ;;
    standby)
        primary=${2:?usage: cluster.sh standby PRIMARY_DIR}
        dir=$(new_dir)
        as_owner "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$(cat "$primary/port")" -U postgres \
            -D "$dir/data" -R -X stream >"$dir/basebackup.log" 2>&1 \
            || { cat "$dir/basebackup.log" >&2; exit 1; }
        start_server "$dir" "$(free_port)"
        echo "$dir $(cat "$dir/port")" ;;
    promote)
        as_owner "$PGBIN/pg_ctl" -D "${2:?}/data" -w -t 60 promote >/dev/null ;;
    freeze)
        dir=${2:?}
        pids=$(pids_of "$dir")
        echo "$pids" >"$dir/frozen"
        # Children first, so none sees its postmaster stop while it runs.
        for p in $(echo "$pids" | tac); do kill -STOP "$p" 2>/dev/null || true; done ;;
    thaw)
        dir=${2:?}
        for p in $(cat "$dir/frozen" 2>/dev/null) $(pids_of "$dir"); do
            kill -CONT "$p" 2>/dev/null || true
        done
        rm -f "$dir/frozen" ;;
    crash)
        dir=${2:?}
        pm=$(head -n 1 "$dir/data/postmaster.pid")
        kill -KILL "$pm" 2>/dev/null || true ;;
    stop)
        dir=${2:?}
        [ -d "$dir" ] || exit 0
        "$0" thaw "$dir"
        if [ -f "$dir/data/postmaster.pid" ]; then
            as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        fi
        # A crashed postmaster's children exit by themselves; wait a little.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -n "$(pids_of "$dir")" ] || break
            sleep 0.2
        done
        rm -rf "$dir" ;;
    bouncer)
        mode=${2:?} host=${3:?} port=${4:?}
        command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] \
            || { echo "cluster.sh: pgbouncer is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
        bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
        dir=$(new_dir)
        bport=$(free_port)
        # Stock settings but for where it listens, where the server is and
        # whom it lets in (trust: the users listed, no password).
        cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=$host port=$port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/users.txt
pool_mode = $mode
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
        printf '"%s" ""\n' $(printf '%s\n' postgres pga_styled "${PGUSER:-postgres}" "$(id -un)" | sort -u) \
            >"$dir/users.txt"
        [ "$(id -u)" = 0 ] && chown postgres: "$dir"/*
        as_owner "$bin" -d "$dir/pgbouncer.ini" >"$dir/start.log" 2>&1 \
            || { cat "$dir/start.log" "$dir/pgbouncer.log" >&2 2>/dev/null; exit 1; }
        for _ in $(seq 50); do
            python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $bport), 1)" 2>/dev/null && break
            sleep 0.1
        done
        echo "$dir $bport" ;;
    bouncer-stop)
        dir=${2:?}
        [ -f "$dir/pgbouncer.pid" ] && kill -TERM "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
        for _ in $(seq 30); do
            [ -f "$dir/pgbouncer.pid" ] && [ -d "/proc/$(cat "$dir/pgbouncer.pid" 2>/dev/null)" ] || break
            sleep 0.1
        done
        rm -rf "$dir" ;;
    *) sed -n '2,22p' "$0" >&2; exit 2 ;;
esac
