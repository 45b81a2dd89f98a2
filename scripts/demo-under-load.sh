#!/bin/sh
# Runs `strata demo` while every core is kept busy by another process (one shell busy-loop per
# core at normal priority, stopped when the demo ends or after 30 minutes), to show that the
# provider meets its proving deadlines on a saturated machine. Exits with the demo's status.
#
#   cargo build --release && scripts/demo-under-load.sh [demo arguments…]
set -eu
strata=${STRATA:-target/release/strata}
n=$(nproc)
pids=""
i=0
while [ "$i" -lt "$n" ]; do
    timeout 1800 sh -c 'while :; do :; done' &
    pids="$pids $!"
    i=$((i + 1))
done
trap 'kill $pids 2>/dev/null || true' EXIT INT TERM
echo "$n CPU hogs running (pids$pids); starting the demo"
"$strata" demo "$@"
