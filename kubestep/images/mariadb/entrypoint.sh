#!/usr/bin/env bash
# The official mysql/mariadb images' entrypoint, cut down: on first start create the system
# tables, root's password, the database and the app's user, run the init scripts, then exec
# the server as the mysql user so that it gets the stop signal itself. Time zone tables are
# not loaded (the official images load them unless told not to).
set -Eeuo pipefail

DATADIR=/var/lib/mysql

# MARIADB_NAME or MYSQL_NAME (the official mariadb image reads both, MARIADB_ first), or the
# file their _FILE variant names (Docker secrets); the result is exported as MYSQL_NAME.
file_env() {
    local name=$1 default=${2:-}
    local value=$default var file_var
    for var in "MARIADB_$name" "MYSQL_$name"; do
        file_var="${var}_FILE"
        if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
            echo "error: both $var and $file_var are set (choose one)" >&2
            exit 1
        fi
        if [ -n "${!var:-}" ]; then
            value=${!var}
            break
        elif [ -n "${!file_var:-}" ]; then
            value=$(<"${!file_var}")
            break
        fi
    done
    export "MYSQL_$name"="$value"
    unset "MARIADB_${name}_FILE" "MYSQL_${name}_FILE"
}

setup_env() {
    file_env ROOT_PASSWORD
    file_env ROOT_HOST %
    file_env DATABASE
    file_env USER
    file_env PASSWORD
    # mysql spells it ALLOW_EMPTY_PASSWORD, mariadb ALLOW_EMPTY_ROOT_PASSWORD.
    : "${MYSQL_ALLOW_EMPTY_PASSWORD:=${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-}}"
    : "${MYSQL_RANDOM_ROOT_PASSWORD:=${MARIADB_RANDOM_ROOT_PASSWORD:-}}"
}

check_env() {
    if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "$MYSQL_ALLOW_EMPTY_PASSWORD" ] \
        && [ -z "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
        cat >&2 <<'MSG'
error: the database is uninitialized and MYSQL_ROOT_PASSWORD is not set.
       Set one of MYSQL_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD_FILE), MYSQL_ALLOW_EMPTY_PASSWORD
       and MYSQL_RANDOM_ROOT_PASSWORD.
MSG
        exit 1
    fi
    if [ "$MYSQL_USER" = root ]; then
        echo "error: MYSQL_USER=root: root is always created; MYSQL_USER names the app's user" >&2
        exit 1
    fi
    if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then
        echo "error: MYSQL_USER=$MYSQL_USER is set but MYSQL_PASSWORD is not" >&2
        exit 1
    fi
}

# SQL literals: 'string' and `identifier`, escaped, so that any password or name works.
sql_string() {
    local s=${1//\\/\\\\}
    printf "'%s'" "${s//\'/\\\'}"
}
sql_name() {
    local quote='`'
    printf '%s%s%s' "$quote" "${1//$quote/$quote$quote}" "$quote"
}

# The set-up server has no TCP listener: a healthcheck (mysqladmin ping -h 127.0.0.1) must not
# see it, or clients would connect to a server that is about to restart.
start_setup_server() {
    SETUP_DIR=$(mktemp -d)
    SOCKET=$SETUP_DIR/mysqld.sock
    "$@" --skip-networking --socket="$SOCKET" &
    SETUP_PID=$!
    local _
    for _ in $(seq 60); do
        if mariadb-admin --no-defaults --socket="$SOCKET" --user=root --silent ping >/dev/null 2>&1
        then
            return 0
        fi
        if ! kill -0 "$SETUP_PID" 2>/dev/null; then
            echo "error: the set-up server exited" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "error: the set-up server did not answer within 30 s" >&2
    exit 1
}

stop_setup_server() {
    kill "$SETUP_PID"
    wait "$SETUP_PID"
    rm -rf "$SETUP_DIR"
}

# root's password set, a client uses this file: the password never reaches argv.
sql() {
    mariadb --defaults-extra-file="$SETUP_DIR/client.cnf" --socket="$SOCKET" --user=root "$@"
}

create_accounts() {
    if [ -n "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
        MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64)
        echo "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
    fi
    local root_password user
    root_password=$(sql_string "$MYSQL_ROOT_PASSWORD")
    {
        # mariadb-install-db also names this container's host, which no client will come from.
        echo "DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');"
        echo "DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';"
        echo "FLUSH PRIVILEGES;"
        echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $root_password;"
        if [ "$MYSQL_ROOT_HOST" != localhost ]; then
            echo "CREATE USER 'root'@$(sql_string "$MYSQL_ROOT_HOST") IDENTIFIED BY $root_password;"
            echo "GRANT ALL ON *.* TO 'root'@$(sql_string "$MYSQL_ROOT_HOST") WITH GRANT OPTION;"
        fi
        if [ -n "$MYSQL_DATABASE" ]; then
            echo "CREATE DATABASE IF NOT EXISTS $(sql_name "$MYSQL_DATABASE");"
        fi
        if [ -n "$MYSQL_USER" ]; then
            user="$(sql_string "$MYSQL_USER")@'%'"
            echo "CREATE USER $user IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
            if [ -n "$MYSQL_DATABASE" ]; then
                echo "GRANT ALL ON $(sql_name "$MYSQL_DATABASE").* TO $user;"
            fi
        fi
        echo "FLUSH PRIVILEGES;"
    } | mariadb --no-defaults --socket="$SOCKET" --user=root
    # Quoted: a # would start a comment. umask: the file holds root's password.
    local quoted=${MYSQL_ROOT_PASSWORD//\\/\\\\}
    quoted=${quoted//\"/\\\"}
    (umask 077 && printf '[client]\npassword="%s"\n' "$quoted" >"$SETUP_DIR/client.cnf")
}

run_init_scripts() {
    local f database=()
    if [ -n "$MYSQL_DATABASE" ]; then
        database=(--database="$MYSQL_DATABASE")
    fi
    shopt -s nullglob
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) echo "running $f"; bash "$f" ;;
            *.sql) echo "running $f"; sql "${database[@]}" <"$f" ;;
            *.sql.gz) echo "running $f"; gunzip -c "$f" | sql "${database[@]}" ;;
            *) echo "ignoring $f" ;;
        esac
    done
    shopt -u nullglob
}

main() {
    if [[ ${1:-} == -* ]]; then
        set -- mariadbd "$@"
    fi
    if [ "${1:-}" != mariadbd ] && [ "${1:-}" != mysqld ]; then
        exec "$@"
    fi
    setup_env
    if [ "$(id -u)" = 0 ]; then
        # Volumes arrive owned by root: fix them, then run again as mysql.
        mkdir -p "$DATADIR"
        chown mysql:mysql "$DATADIR"
        exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
    fi
    if [ ! -d "$DATADIR/mysql" ]; then
        check_env
        mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
            --skip-test-db --skip-name-resolve >/dev/null
        start_setup_server "$@"
        create_accounts
        run_init_scripts
        stop_setup_server
        echo "MariaDB init process complete; ready for start up."
    fi
    exec "$@"
}

main "$@"
