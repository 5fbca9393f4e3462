# Shared setup for tests/integration/rec_*.sh (sourced). Needs MG_BUILD and MG_ROOT.
# Provides: $work (private temp dir, removed on exit), $rec (the CLI), token + state env,
# start_s3 / stop_s3 / start_front / stop_front, free_port, fail, pass.
set -euo pipefail
: "${MG_BUILD:?MG_BUILD must name a build directory}" "${MG_ROOT:?MG_ROOT must name the project root}"
rec=$MG_BUILD/app/mediagate-rec/mediagate-rec
[ -x "$rec" ] || { echo "FAIL: $rec not built"; exit 1; }
work=$(mktemp -d /tmp/mg-rec-test.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

eval "export $(bash "$MG_ROOT/scripts/rec/softhsm-setup.sh" "$work/hsm" mgtest 1234)"
export MG_REC_PIN=1234 MG_REC_TOKEN=mgtest MG_REC_STATE=$work/state
export MG_S3_BUCKET=recordings MG_S3_ACCESS_KEY=AKIDMEDIAGATETEST MG_S3_SECRET_KEY=test-secret-do-not-log
s3_port=$(free_port)
front_port=$(free_port)
export MG_S3_ENDPOINT=http://127.0.0.1:$front_port
s3_pid=""
front_pid=""

start_s3() {
	s3_pid=$(bash "$MG_ROOT/scripts/rec/s3-start.sh" "$work/s3" "$s3_port" "$MG_S3_BUCKET" "$work/s3.pid")
	pids+=("$s3_pid")
}
stop_s3() { # $1: signal (default TERM)
	[ -n "$s3_pid" ] && kill "-${1:-TERM}" "$s3_pid" 2>/dev/null || true
	wait "$s3_pid" 2>/dev/null || true
	s3_pid=""
}
start_front() {
	python3 "$MG_ROOT/scripts/rec/sigv4_front.py" "$front_port" "$s3_port" "$MG_S3_ACCESS_KEY" \
		"$MG_S3_SECRET_KEY" 2>>"$work/front.log" &
	front_pid=$!
	pids+=("$front_pid")
	for _ in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$front_port") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "SigV4 front did not start"
}
# Lists the bucket through the front with botocore (an independent S3 client): one key per line.
list_bucket() {
	python3 - "$MG_S3_ENDPOINT" "$MG_S3_BUCKET" <<'PY'
import sys, botocore.session
from botocore.config import Config
s = botocore.session.get_session()
c = s.create_client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                    aws_access_key_id=__import__("os").environ["MG_S3_ACCESS_KEY"],
                    aws_secret_access_key=__import__("os").environ["MG_S3_SECRET_KEY"],
                    config=Config(s3={"addressing_style": "path", "payload_signing_enabled": True}))
token = None
while True:
    kw = {"Bucket": sys.argv[2]}
    if token: kw["ContinuationToken"] = token
    r = c.list_objects_v2(**kw)
    for o in r.get("Contents", []): print(o["Key"])
    if not r.get("IsTruncated"): break
    token = r["NextContinuationToken"]
PY
}
# A WAV of N seconds (8 kHz stereo 16-bit, random noise so every file differs).
make_wav() { sox -n -r 8000 -c 2 -b 16 "$1" synth "$2" whitenoise 2>/dev/null; }
