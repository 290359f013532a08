#!/bin/sh
# Run a libFuzzer target for a bounded time: run_fuzz.sh TARGET WORKDIR SECONDS SEEDDIR...
# New inputs go to WORKDIR (created), never into the seed directories.
set -eu
target=$1 workdir=$2 seconds=$3
shift 3
mkdir -p "$workdir"
exec "$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$workdir" "$@"
