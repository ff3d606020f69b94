# Throwaway PostgreSQL clusters for the shared-ledger tests. Sourced by .ci/run (or by hand:
# `source .ci/postgres.sh && postgres_start`); needs Debian's `postgresql` package.
#
# postgres_start starts two clusters, each initdb'd in a temporary folder, with its own free port on
# 127.0.0.1 only, its own socket folder and password (scram-sha-256) logins over TCP:
#   - the shared one, which every PostgreSQL test uses and nobody restarts:
#       REFINERY_TEST_POSTGRES           postgres://refinery:PASSWORD@127.0.0.1:PORT/refinery_test
#   - the fault one, which only the tests that restart or stop a server use, so that their outages
#     never reach the tests running beside them:
#       REFINERY_TEST_POSTGRES_FAULTS    its URL, as above
#       REFINERY_TEST_POSTGRES_RESTART   a command that restarts it
#       REFINERY_TEST_POSTGRES_STOP, REFINERY_TEST_POSTGRES_START   stop it, start it again (the workers'
#                                        outage test keeps it down for a few seconds in between)
# postgres_stop stops both and removes their folders.
# PostgreSQL refuses to run as root: as root, the servers run as the `postgres` user.

postgres_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$dir" ] && echo "$dir"
}

# postgres_cluster: starts one cluster; sets PG_CLUSTER_DIR, PG_CLUSTER_CTL and PG_CLUSTER_URL.
postgres_cluster() {
    local bin port password as dir
    bin=$(postgres_bin) || { echo "postgres.sh: no PostgreSQL server in /usr/lib/postgresql" >&2; return 1; }
    dir=$(mktemp -d /tmp/refinery-pg.XXXXXX)
    as=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
        chown postgres "$dir"
        as=(runuser -u postgres --)
    fi
    chmod 700 "$dir"
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '%s\n' "$password" > "$dir/pwfile"
    [ ${#as[@]} -eq 0 ] || chown postgres "$dir/pwfile"
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U refinery --pwfile="$dir/pwfile" \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    rm -f "$dir/pwfile"
    mkdir -p "$dir/socket"
    [ ${#as[@]} -eq 0 ] || chown postgres "$dir/socket"
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/socket'
max_connections = 200
fsync = off
CONF
    PG_CLUSTER_DIR=$dir
    PG_CLUSTER_CTL="${as[*]} $bin/pg_ctl -D $dir/data -l $dir/server.log -w"
    $PG_CLUSTER_CTL start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
    PGPASSWORD="$password" "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U refinery -d postgres \
        -c 'CREATE DATABASE refinery_test' || return 1
    PG_CLUSTER_URL="postgres://refinery:$password@127.0.0.1:$port/refinery_test"
    echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
}

postgres_start() {
    PG_TEST_DIRS=()
    PG_TEST_CTLS=()
    postgres_cluster || return 1
    PG_TEST_DIRS+=("$PG_CLUSTER_DIR")
    PG_TEST_CTLS+=("$PG_CLUSTER_CTL")
    export REFINERY_TEST_POSTGRES="$PG_CLUSTER_URL"
    postgres_cluster || return 1
    PG_TEST_DIRS+=("$PG_CLUSTER_DIR")
    PG_TEST_CTLS+=("$PG_CLUSTER_CTL")
    export REFINERY_TEST_POSTGRES_FAULTS="$PG_CLUSTER_URL"
    export REFINERY_TEST_POSTGRES_RESTART="$PG_CLUSTER_CTL -m fast restart"
    export REFINERY_TEST_POSTGRES_STOP="$PG_CLUSTER_CTL -m fast stop"
    export REFINERY_TEST_POSTGRES_START="$PG_CLUSTER_CTL start"
}

postgres_stop() {
    local i
    for i in "${!PG_TEST_DIRS[@]}"; do
        ${PG_TEST_CTLS[$i]} -m immediate stop >/dev/null 2>&1 || true
        rm -rf "${PG_TEST_DIRS[$i]}"
    done
    PG_TEST_DIRS=()
    PG_TEST_CTLS=()
}
