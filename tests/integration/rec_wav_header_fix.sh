#!/usr/bin/env bash
# A WAV sealed as a stream carries 0xFFFFFFFF as its RIFF and data sizes (the header goes out
# before the length is known). mediagate-rec get patches them from the real length, to a file
# (after the last authenticated byte) and to stdout (from the sealed size, before the first
# byte): soxi and ffprobe then report the right duration, channels and rate, and the audio
# bytes are unchanged. Without the patch soxi reports a wrong duration (checked first, so the
# test fails if the fix stops happening). Two frame lengths: the default (16 KiB) and 64 bytes
# with a plaintext that is an exact multiple of it (a full final frame).
source "$MG_ROOT/scripts/rec/testenv.sh"
export MG_REC_PRINCIPAL=admin
"$rec" keys create --account 111122223333 --instance inst-a >/dev/null

# Stereo 8 kHz 16-bit PCM with the streaming header mediagate writes (lib/rec
# mg_rec_wav_header(UINT32_MAX)); 24005 sample frames = 3.000625 s, 96064 bytes = 1501 * 64.
stream_wav() {
	python3 - "$1" "$2" <<'PY'
import math, struct, sys
frames = int(sys.argv[2])
hdr = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt " + struct.pack(
    "<IHHIIHH", 16, 1, 2, 8000, 32000, 4, 16) + b"data" + struct.pack("<I", 0xFFFFFFFF)
body = bytearray()
for i in range(frames):
    body += struct.pack("<hh", int(8000 * math.sin(2 * math.pi * 400 * i / 8000)),
                        int(8000 * math.sin(2 * math.pi * 1000 * i / 8000)))
open(sys.argv[1], "wb").write(hdr + bytes(body))
PY
}
stream_wav "$work/stream.wav" 24005
[ "$(stat -c %s "$work/stream.wav")" -eq 96064 ] || fail "test WAV has the wrong size"
raw=$(soxi -D "$work/stream.wav" 2>/dev/null || echo unreadable)
[ "$raw" != "3.000625" ] || fail "soxi already reads the streaming header right: the test proves nothing"
pass "streaming header unfixed: soxi says $raw s"

check_wav() { # file label
	local d c r probe
	d=$(soxi -D "$1") c=$(soxi -c "$1") r=$(soxi -r "$1")
	[ "$d" = "3.000625" ] && [ "$c" = 2 ] && [ "$r" = 8000 ] || fail "$2: soxi says $d s, $c channels, $r Hz"
	probe=$(ffprobe -v error -show_entries stream=codec_name,channels,sample_rate,duration \
		-of compact=p=0:nk=0 "$1")
	echo "$probe" | grep -q "codec_name=pcm_s16le|sample_rate=8000|channels=2|duration=3.000625" ||
		fail "$2: ffprobe says $probe"
	cmp -s <(tail -c +45 "$1") <(tail -c +45 "$work/stream.wav") || fail "$2: audio bytes changed"
	head -c 44 "$1" | od -An -tx1 | tr -d ' \n' | grep -q '^52494646387701005741' ||
		fail "$2: RIFF size not 96056"
	pass "$2: soxi ${d}s ${c}ch ${r}Hz, ffprobe $probe, audio unchanged"
}

for frame_len in 16384 64; do
	contact=c-stream-$frame_len
	"$rec" seal --instance inst-a --alias acme --contact "$contact" --frame-len $frame_len \
		--in "$work/stream.wav" >/dev/null
	"$rec" get --instance inst-a --contact "$contact" --out "$work/file-$frame_len.wav" \
		2>"$work/get.err" || fail "get to a file: $(cat "$work/get.err")"
	grep -q "WAV: format 1, 2 channel(s), 8000 Hz, 3.001 s" "$work/get.err" ||
		fail "get did not report the WAV: $(cat "$work/get.err")"
	check_wav "$work/file-$frame_len.wav" "frame length $frame_len, get --out FILE"
	"$rec" get --instance inst-a --contact "$contact" --out - >"$work/stdout-$frame_len.wav" \
		2>"$work/get.err" || fail "get to stdout: $(cat "$work/get.err")"
	check_wav "$work/stdout-$frame_len.wav" "frame length $frame_len, get --out - (stdout)"
done

# A WAV with real sizes (sox, same format as ours) passes through untouched, also when it is
# cut short (its sizes then disagree with its length: still not ours to change).
make_wav "$work/sox.wav" 1
head -c 20000 "$work/sox.wav" >"$work/sox-cut.wav"
for f in sox sox-cut; do
	"$rec" seal --instance inst-a --alias acme --contact "c-$f" --in "$work/$f.wav" >/dev/null
	"$rec" get --instance inst-a --contact "c-$f" --out "$work/$f-out.wav" 2>/dev/null
	cmp -s "$work/$f.wav" "$work/$f-out.wav" || fail "$f: a WAV with real sizes was changed"
	"$rec" get --instance inst-a --contact "c-$f" --out - 2>/dev/null >"$work/$f-stdout.wav"
	cmp -s "$work/$f.wav" "$work/$f-stdout.wav" || fail "$f: a WAV with real sizes was changed (stdout)"
done
pass "WAVs with real sizes (whole and cut short) come back byte for byte"
echo "PASS rec_wav_header_fix"
