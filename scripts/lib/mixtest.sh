# Helpers of the conference tests (tests/integration/mix_*.sh); source after mgtest.sh,
# mg_test_init, mg_lan_up and mg_start.
#
#   ngj JSON                 one ng request (tests/tools/ng.py), the answer as JSON on stdout
#   ng_ok JSON               the same, fails the test unless result is ok
#   mix_call CALL FROM TO IP0 PORT0 IP1 PORT1 CONTACT ROLE0 ROLE1 CODEC
#                            (CODEC 0: PCMU, 8: PCMA, for both sides) offer (side 0 = FROM at IP0:PORT0) and answer (side 1); sets
#                            $to0 / $to1: mediagate's port that side 0 / side 1 sends to
#   party NAME NS IP:PORT MGPORT ARGS...   a tone_peer.py participant in namespace ${id}NS
#                            (in the background), output $work/NAME.json
#   mark NAME                remembers the wall-clock time of a step: $t_NAME
#   hears NAME FROM TO ARGS  tone_check.py on NAME's output between two marks (+0.7 s
#                            for the jitter buffers to settle, -0.1 s)
mix_ngpy="$root/tests/tools/ng.py"

ngj() { ip netns exec "${id}core" python3 "$mix_ngpy" "$ngport" "$1"; }
ng_ok() {
	local a
	a=$(ngj "$1") || fail "ng request failed: $1"
	echo "$a" | grep -q '"result": "ok"' || fail "ng refused $1: $a"
	echo "$a"
}

mix_sdp() { # ip port name codec (0 = PCMU, 8 = PCMA)
	local map="a=rtpmap:0 PCMU/8000"
	[ "$4" = 8 ] && map="a=rtpmap:8 PCMA/8000"
	printf 'v=0\r\no=%s 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/AVP %s 101\r\n%s\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n' \
		"$3" "$1" "$1" "$2" "$4" "$map"
}

mix_call() {
	local call=$1 from=$2 to=$3 ip0=$4 p0=$5 ip1=$6 p1=$7 contact=$8 r0=$9 r1=${10} codec=${11} a
	local s0 s1
	s0=$(mix_sdp "$ip0" "$p0" "$from" "$codec" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
	s1=$(mix_sdp "$ip1" "$p1" "$to" "$codec" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
	a=$(ng_ok "{\"command\":\"offer\",\"call-id\":\"$call\",\"from-tag\":\"$from\",\"contact-id\":\"$contact\",\"leg-role\":\"$r0\",\"sdp\":$s0}")
	to1=$(echo "$a" | python3 -c 'import json,re,sys; print(re.search(r"m=audio (\d+)", json.load(sys.stdin)["sdp"]).group(1))')
	a=$(ng_ok "{\"command\":\"answer\",\"call-id\":\"$call\",\"from-tag\":\"$from\",\"to-tag\":\"$to\",\"contact-id\":\"$contact\",\"leg-role\":\"$r1\",\"sdp\":$s1}")
	to0=$(echo "$a" | python3 -c 'import json,re,sys; print(re.search(r"m=audio (\d+)", json.load(sys.stdin)["sdp"]).group(1))')
}

mix_pids=()
party() {
	local name=$1 ns=$2 bind=$3 mgport=$4
	shift 4
	ip netns exec "${id}$ns" python3 "$root/tests/tools/tone_peer.py" --bind "$bind" \
		--to "10.91.0.1:$mgport" --out "$work/$name.json" "$@" >"$work/$name.log" 2>&1 &
	mix_pids+=($!)
}

mark() { printf -v "t_$1" '%s' "$(date +%s.%N)"; }

hears() {
	local name=$1 from=$2 to=$3
	shift 3
	local t0 t1 v0="t_$from" v1="t_$to"
	t0=$(python3 -c "print(${!v0} + 0.7)")
	t1=$(python3 -c "print(${!v1} - 0.1)")
	python3 "$root/tests/tools/tone_check.py" "$work/$name.json" "$t0" "$t1" --name "$name $from..$to" "$@" \
		|| fail "$name between $from and $to"
}
