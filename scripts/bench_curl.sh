#!/bin/sh
# The curl peer of scripts/bench.py: the whole dump in one process tree, as a shell user would
# write it. Log in (password grant), read the event, write a curl config with the Bearer header
# and one URL per lot, then fetch them all with `curl --parallel`; the lot bodies go to stdout
# (the bench sends that to a file and checks what arrived). curl cannot keep the event's order.
# A 429 or 503 is retried twice (curl waits 1 s, then 2 s, or what Retry-After says).
#
#   sh scripts/bench_curl.sh WORK_DIR EVENT_ID IN_FLIGHT RETRIES
#
# The sandbox's address and the demo credentials come from the environment (`sandbox_env`).
set -eu
work=$1 event=$2 in_flight=$3 retries=$4

answer=$(curl --silent --show-error --fail --retry "$retries" \
    --data-urlencode grant_type=password --data-urlencode "username=$LOTSDB_USERNAME" \
    --data-urlencode "password=$LOTSDB_PASSWORD" --data-urlencode "client_id=$LOTSDB_CLIENT_ID" \
    --data-urlencode "client_secret=$LOTSDB_CLIENT_SECRET" --data-urlencode scope=offline_access \
    "$LOTSDB_IDENTITY_URL")
token=$(printf '%s' "$answer" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')

curl --silent --show-error --fail --retry "$retries" -H "Authorization: Bearer $token" \
    -o "$work/event.json" "$LOTSDB_CATALOG_URL/api/Catalog/$event"
{
    printf 'header = "Authorization: Bearer %s"\n' "$token"
    # The lot ids: the "id" of every object in the event's "lots" array (flat objects).
    sed -n 's/.*"lots" *: *\[\([^]]*\)\].*/\1/p' "$work/event.json" |
        grep -o '"id" *: *[0-9]*' |
        sed "s|.*: *\([0-9]*\)\$|url = \"$LOTSDB_CATALOG_URL/api/Lot/\1\"|"
} >"$work/curl.config"

exec curl --parallel --parallel-max "$in_flight" --silent --show-error --no-progress-meter --fail \
    --retry "$retries" --write-out '\n' --config "$work/curl.config"
