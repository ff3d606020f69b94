# A throwaway PostgreSQL cluster for the shared-ledger tests. Sourced by .ci/run (or by hand:
# `source .ci/postgres.sh && postgres_start`); needs Debian's `postgresql` package.
#
# postgres_start: initdb in a temporary folder, its own free port on 127.0.0.1 only, its own socket
# folder, password (scram-sha-256) logins over TCP, then exports
#   REFINERY_TEST_POSTGRES           postgres://refinery:PASSWORD@127.0.0.1:PORT/refinery_test
#   REFINERY_TEST_POSTGRES_RESTART   a command that restarts the server (the fault test runs it)
#   REFINERY_TEST_POSTGRES_STOP, REFINERY_TEST_POSTGRES_START   stop it, start it again (the workers'
#                                    outage test keeps it down for a few seconds in between)
# postgres_stop: stops the server and removes the folder.
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.

postgres_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$dir" ] && echo "$dir"
}

postgres_start() {
    local bin port password as
    bin=$(postgres_bin) || { echo "postgres.sh: no PostgreSQL server in /usr/lib/postgresql" >&2; return 1; }
    PG_TEST_DIR=$(mktemp -d /tmp/refinery-pg.XXXXXX)
    as=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_TEST_DIR" postgres
        chown postgres "$PG_TEST_DIR"
        as=(runuser -u postgres --)
    fi
    chmod 700 "$PG_TEST_DIR"
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '%s\n' "$password" > "$PG_TEST_DIR/pwfile"
    [ ${#as[@]} -eq 0 ] || chown postgres "$PG_TEST_DIR/pwfile"
    "${as[@]}" "$bin/initdb" -D "$PG_TEST_DIR/data" -U refinery --pwfile="$PG_TEST_DIR/pwfile" \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$PG_TEST_DIR/initdb.log" 2>&1 \
        || { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
    rm -f "$PG_TEST_DIR/pwfile"
    mkdir -p "$PG_TEST_DIR/socket"
    [ ${#as[@]} -eq 0 ] || chown postgres "$PG_TEST_DIR/socket"
    cat >>"$PG_TEST_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_TEST_DIR/socket'
max_connections = 200
fsync = off
EOF
    PG_TEST_CTL="${as[*]} $bin/pg_ctl -D $PG_TEST_DIR/data -l $PG_TEST_DIR/server.log -w"
    $PG_TEST_CTL start >/dev/null || { cat "$PG_TEST_DIR/server.log" >&2; return 1; }
    PGPASSWORD="$password" "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U refinery -d postgres \
        -c 'CREATE DATABASE refinery_test' || return 1
    export REFINERY_TEST_POSTGRES="postgres://refinery:$password@127.0.0.1:$port/refinery_test"
    export REFINERY_TEST_POSTGRES_RESTART="$PG_TEST_CTL -m fast restart"
    export REFINERY_TEST_POSTGRES_STOP="$PG_TEST_CTL -m fast stop"
    export REFINERY_TEST_POSTGRES_START="$PG_TEST_CTL start"
    echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PG_TEST_DIR)"
}

postgres_stop() {
    [ -n "${PG_TEST_DIR:-}" ] || return 0
    $PG_TEST_CTL -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
    PG_TEST_DIR=
}
