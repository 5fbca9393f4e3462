# Common set-up of mediagate's integration tests (source it after setting $root).
#
#   mg_test_init TAG     names for this run (namespaces ${id}*, EAL prefix, ng port),
#                        a scratch dir $work, cleanup on exit (mediagate, namespaces,
#                        EAL runtime dir, and whatever the test adds to mg_cleanup_extra)
#   mg_start [--set k=v ...]   mediagate on the af_packet profile in ${id}core, ng on
#                        127.0.0.1:$ngport; waits until it answers ng
#   NG=(...)             rtpengine-ng-client aimed at it
#   tel CMD              a telemetry command through dpdk-telemetry.py
#   new_sdp F / new_port F   the rewritten SDP / its first m=audio port from an ng-client output
#   mg_keys_setup [INSTANCE]  a private SoftHSM2 token with INSTANCE's key (default:
#                        "default", owner mediagate); sets mg_keys_args (--set ... for
#                        mg_start), $keys_state and $rec_cli with MG_REC_* exported
#   mg_redis_start       redis-server in ${id}core on 127.0.0.1:$rport (default ngport + 1),
#                        private dir $work, appendfsync always; sets RC (its redis-cli) and
#                        redis_pid (the test's mg_cleanup_extra kills it); fails unless it answers
#   fail MSG / ok MSG
#   MG_KEEP=1            keep $work (and the EAL runtime dir) after the test, to look at it
build=${MG_BUILD:-$root/build}
source "$root/scripts/lib/netns.sh"

mg_cleanup_extra() { :; }

mg_test_cleanup() {
	# never stop early (set -e): a mediagate that exits non-zero (ASan leak report) must
	# not leave its namespaces behind
	[ -n "${mg_pid:-}" ] && kill "$mg_pid" 2>/dev/null && wait "$mg_pid" 2>/dev/null || true
	mg_cleanup_extra || true
	mg_lan_down "$id"
	[ -n "${MG_KEEP:-}" ] || rm -rf "$work" "/var/run/dpdk/$prefix"
}

mg_test_init() {
	local tag=$1 sum
	sum=$(printf '%s' "$tag" | cksum | cut -d' ' -f1)
	id="mg$tag$$"
	prefix="mgtest$tag$$"
	ngport=$((20000 + ($$ + sum) % 10000))
	work=$(mktemp -d)
	mg_pid=""
	trap mg_test_cleanup EXIT
	NG=(ip netns exec "${id}core" timeout 5 rtpengine-ng-client --proxy-address=127.0.0.1
	    --proxy-port="$ngport")
}

fail() {
	echo "FAIL: $*"
	echo "--- mediagate log"
	for log in "$work"/mg*.log; do grep -v "^EAL\|^TELEMETRY" "$log" 2>/dev/null | tail -20; done
	exit 1
}
ok() { echo "ok: $*"; }

mg_redis_start() {
	rport=${rport:-$((ngport + 1))}
	RC=(ip netns exec "${id}core" redis-cli -p "$rport")
	ip netns exec "${id}core" redis-server --bind 127.0.0.1 --port "$rport" --dir "$work" \
		--save '' --appendonly yes --appendfsync always --daemonize no >"$work/redis.log" 2>&1 &
	redis_pid=$!
	for _ in $(seq 1 50); do "${RC[@]}" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done
	fail "redis-server did not start on port $rport"
}

mg_keys_setup() {
	local instance=${1:-default}
	keys_state=$work/keys-state
	rec_cli=$build/app/mediagate-rec/mediagate-rec
	eval "export $(bash "$root/scripts/rec/softhsm-setup.sh" "$work/hsm" mgtest 1234)"
	printf '1234\n' >"$work/token.pin"
	chmod 600 "$work/token.pin"
	export MG_REC_PIN=1234 MG_REC_TOKEN=mgtest MG_REC_STATE=$keys_state MG_REC_PRINCIPAL=mediagate
	"$rec_cli" keys describe --instance "$instance" >/dev/null 2>&1 ||
		"$rec_cli" keys create --account test-account --instance "$instance" >/dev/null ||
		fail "cannot create the key of instance $instance"
	mg_keys_args=(--set keys.state_dir="$keys_state" --set keys.pin_file="$work/token.pin"
		      --set keys.token=mgtest --set keys.instance="$instance")
}

mg_start() {
	ip netns exec "${id}core" "$build/app/mediagate/mediagate" --profile af_packet \
		--set eal.file_prefix="$prefix" --set control.ng_listen="127.0.0.1:$ngport" \
		--set control.prometheus_listen=off "$@" >"$work/mg.log" 2>&1 &
	mg_pid=$!
	mg_wait_ng "${id}core" "$ngport" || fail "mediagate did not answer ng ping"
}

tel() { printf '%s\n' "$1" | timeout 5 dpdk-telemetry.py -f "$prefix"; }
new_sdp() { sed -n '/^New SDP/,/^----->8/p' "$1"; }
new_port() { new_sdp "$1" | grep -m1 -oP '^m=audio \K[0-9]+'; }
