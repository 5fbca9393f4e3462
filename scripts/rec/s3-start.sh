#!/usr/bin/env bash
# Starts npm's s3rver on loopback with a private data directory, in the background.
# Usage: s3-start.sh DATA_DIR PORT BUCKET [PIDFILE]
# Waits until the port answers; prints the pid. Stop it with: kill "$(cat PIDFILE)".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:?usage: s3-start.sh DATA_DIR PORT BUCKET [PIDFILE]}
port=${2:?port}
bucket=${3:?bucket}
pidfile=${4:-$data/s3rver.pid}
bin=$here/../../build-deps/npm/node_modules/.bin/s3rver
[ -x "$bin" ] || { echo "s3-start: s3rver missing; run scripts/deps.sh" >&2; exit 1; }
mkdir -p "$data"
# --configure-bucket is idempotent: an existing bucket directory is kept with its objects.
"$bin" -d "$data" -a 127.0.0.1 -p "$port" --silent --no-vhost-buckets \
	--configure-bucket "$bucket" >"$data/s3rver.log" 2>&1 &
pid=$!
echo "$pid" >"$pidfile"
for _ in $(seq 1 100); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "$pid"
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || { cat "$data/s3rver.log" >&2; exit 1; }
	sleep 0.1
done
echo "s3-start: s3rver did not open port $port" >&2
exit 1
