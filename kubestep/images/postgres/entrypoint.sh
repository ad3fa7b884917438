#!/usr/bin/env bash
# The official postgres image's entrypoint, cut down: initdb on first start only, then
# exec postgres as the postgres user so that it gets the stop signal itself.
set -Eeuo pipefail

# Read VAR or, as in the official image, the file named by VAR_FILE (Docker secrets).
file_env() {
    local var=$1 default=${2:-}
    local file_var="${var}_FILE"
    if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
        echo "error: both $var and $file_var are set (choose one)" >&2
        exit 1
    fi
    local value=$default
    if [ -n "${!var:-}" ]; then
        value=${!var}
    elif [ -n "${!file_var:-}" ]; then
        value=$(<"${!file_var}")
    fi
    export "$var"="$value"
    unset "$file_var"
}

setup_env() {
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS
    : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
    export PGDATA=${PGDATA:-/var/lib/postgresql/data}
}

require_password() {
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
        cat >&2 <<'MSG'
error: the database is uninitialized and POSTGRES_PASSWORD is not set.
       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value, or
       POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password.
MSG
        exit 1
    fi
}

init_database_dir() {
    local args=(--username="$POSTGRES_USER" -D "$PGDATA" --auth-local=trust
        --auth-host="$POSTGRES_HOST_AUTH_METHOD")
    # POSTGRES_INITDB_ARGS is a list of words, as upstream; the password never reaches argv.
    # shellcheck disable=SC2086
    if [ -n "$POSTGRES_PASSWORD" ]; then
        initdb "${args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
    else
        initdb "${args[@]}" $POSTGRES_INITDB_ARGS
    fi
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
    printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
}

# The set-up server listens on a private socket only: a healthcheck (pg_isready) must not
# see it, or clients would connect to a server that is about to restart.
start_setup_server() {
    PGHOST=$(mktemp -d)
    export PGHOST PGUSER="$POSTGRES_USER" PGPASSWORD="$POSTGRES_PASSWORD"
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -k $PGHOST" start
}

stop_setup_server() {
    pg_ctl -D "$PGDATA" -m fast -w stop
    rm -rf "$PGHOST"
    unset PGHOST PGUSER PGPASSWORD
}

create_database() {
    if [ "$POSTGRES_DB" != postgres ]; then
        psql -v ON_ERROR_STOP=1 --no-password --dbname postgres --set db="$POSTGRES_DB" \
            <<<'CREATE DATABASE :"db";'
    fi
}

run_init_scripts() {
    local f
    shopt -s nullglob
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) echo "running $f"; bash "$f" ;;
            *.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 --dbname "$POSTGRES_DB" -f "$f" ;;
            *.sql.gz) echo "running $f"; gunzip -c "$f" | psql -v ON_ERROR_STOP=1 --dbname "$POSTGRES_DB" ;;
            *) echo "ignoring $f" ;;
        esac
    done
    shopt -u nullglob
}

main() {
    if [ "${1:0:1}" = - ]; then
        set -- postgres "$@"
    fi
    if [ "$1" != postgres ]; then
        exec "$@"
    fi
    setup_env
    if [ "$(id -u)" = 0 ]; then
        # Volumes arrive owned by root: fix them, then run again as postgres.
        mkdir -p "$PGDATA"
        chown postgres:postgres "$PGDATA"
        chmod 700 "$PGDATA"
        exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        require_password
        init_database_dir
        start_setup_server
        create_database
        run_init_scripts
        stop_setup_server
        echo "PostgreSQL init process complete; ready for start up."
    fi
    exec "$@"
}

main "$@"
