#!/bin/bash
# Nagios plugin: how many orders are still pending in legacy-app's database.
#
#   check_orders_backlog.sh -w WARN -c CRIT [-H host] [-p port] [-d dbname] [-U user]
#
# The password comes from ~nagios/.pgpass, never from the command line.
# Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

OK=0
WARNING=1
CRITICAL=2
UNKNOWN=3

host=localhost
port=5432
dbname=orders
user=nagios
warn=
crit=

usage() {
    echo "usage: $0 -w WARN -c CRIT [-H host] [-p port] [-d dbname] [-U user]"
}

while getopts "w:c:H:p:d:U:h" opt; do
    case "$opt" in
        w) warn=$OPTARG ;;
        c) crit=$OPTARG ;;
        H) host=$OPTARG ;;
        p) port=$OPTARG ;;
        d) dbname=$OPTARG ;;
        U) user=$OPTARG ;;
        h) usage; exit "$UNKNOWN" ;;
        *) echo "BACKLOG UNKNOWN - $(usage)"; exit "$UNKNOWN" ;;
    esac
done

case "$warn$crit" in
    '' | *[!0-9]*)
        echo "BACKLOG UNKNOWN - -w and -c must be whole numbers ($(usage))"
        exit "$UNKNOWN"
        ;;
esac
if [ -z "$warn" ] || [ -z "$crit" ] || [ "$warn" -gt "$crit" ]; then
    echo "BACKLOG UNKNOWN - need -w WARN -c CRIT with WARN <= CRIT"
    exit "$UNKNOWN"
fi

if ! pending=$(PGCONNECT_TIMEOUT=5 psql -X -h "$host" -p "$port" -U "$user" -d "$dbname" \
        -w -tA -c "SELECT count(*) FROM orders WHERE status = 'pending'" 2>&1); then
    echo "BACKLOG UNKNOWN - psql failed: ${pending%%$'\n'*}"
    exit "$UNKNOWN"
fi

perfdata="pending=$pending;$warn;$crit;0"
if [ "$pending" -ge "$crit" ]; then
    echo "BACKLOG CRITICAL - $pending pending orders | $perfdata"
    exit "$CRITICAL"
elif [ "$pending" -ge "$warn" ]; then
    echo "BACKLOG WARNING - $pending pending orders | $perfdata"
    exit "$WARNING"
fi
echo "BACKLOG OK - $pending pending orders | $perfdata"
exit "$OK"
