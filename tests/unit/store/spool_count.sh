#!/usr/bin/env bash
# Runs test_spool_count against a private s3rver (the delivery step needs a real bucket).
# Usage: spool_count.sh SOURCE_ROOT TEST_BINARY
set -euo pipefail
root=$1
binary=$2
work=$(mktemp -d /tmp/mg-spool-count-s3.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=$(bash "$root/scripts/rec/s3-start.sh" "$work/s3" "$port" recordings "$work/s3.pid")
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
MG_TEST_S3_ENDPOINT=http://127.0.0.1:$port "$binary"
