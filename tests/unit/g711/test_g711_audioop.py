#!/usr/bin/env python3
"""Cross-check lib/g711 against Python's audioop (CPython's own G.711 code, derived from
Sun's g711.c). Reads `test_g711 --dump`.

audioop's decoders and A-law encoder must agree exactly. audioop's mu-law encoder folds
negative inputs with -x where G.191 uses the one's complement ~x = -x - 1; so for x < 0
audioop.lin2ulaw(x) must equal G.191's code for x - 4 (same 14-bit magnitude), and the
number of inputs where the two folds give different codes is printed."""
import subprocess, sys, struct, warnings
warnings.simplefilter("ignore", DeprecationWarning)
try:
    import audioop
except ImportError:
    print("audioop not available (Python >= 3.13): skipped")
    sys.exit(0)

raw = subprocess.run([sys.argv[1], "--dump"], check=True, stdout=subprocess.PIPE).stdout
assert len(raw) == 1024 + 2 * 65536, len(raw)
udec = struct.unpack("<256h", raw[:512])
adec = struct.unpack("<256h", raw[512:1024])
uenc = raw[1024:1024 + 65536]
aenc = raw[1024 + 65536:]

fails = 0
codes = bytes(range(256))
a_udec = struct.unpack("<256h", audioop.ulaw2lin(codes, 2))
a_adec = struct.unpack("<256h", audioop.alaw2lin(codes, 2))
d = sum(x != y for x, y in zip(udec, a_udec)) + sum(x != y for x, y in zip(adec, a_adec))
print(f"decode: {d} differences in 2 x 256 codes")
fails += d != 0

lin = struct.pack("<65536h", *range(-32768, 32768))
a_uenc = audioop.lin2ulaw(lin, 2)
a_aenc = audioop.lin2alaw(lin, 2)
d = sum(x != y for x, y in zip(aenc, a_aenc))
print(f"A-law encode: {d} differences in 65536 inputs")
fails += d != 0

pos = sum(uenc[i] != a_uenc[i] for i in range(32768, 65536))
neg_fold = 0
unexplained = 0
for i in range(4, 32768):          # x = i - 32768 in -32764..-1
    if uenc[i] != a_uenc[i]:
        neg_fold += 1
    if a_uenc[i] != uenc[i - 4]:   # audioop(x) == G.191(x - 4)
        unexplained += 1
print(f"mu-law encode: {pos} differences for x >= 0; {neg_fold} for x < 0, all explained by "
      f"the -x vs ~x fold: {unexplained} unexplained")
fails += pos != 0 or unexplained != 0 or neg_fold == 0
print("FAIL" if fails else "ok")
sys.exit(1 if fails else 0)
