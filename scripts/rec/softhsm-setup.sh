#!/usr/bin/env bash
# Idempotent SoftHSM2 token setup in a private token directory.
# Usage: softhsm-setup.sh DIR [LABEL] [PIN] [SO_PIN]
# Creates DIR/softhsm2.conf and DIR/tokens/, initialises token LABEL once (kept if present)
# and prints the line to export: SOFTHSM2_CONF=DIR/softhsm2.conf
set -euo pipefail
dir=${1:?usage: softhsm-setup.sh DIR [LABEL] [PIN] [SO_PIN]}
label=${2:-mediagate}
pin=${3:-1234}
so_pin=${4:-12345678}
mkdir -p "$dir/tokens"
chmod 700 "$dir" "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf=$dir/softhsm2.conf
if [ ! -f "$conf" ]; then
	cat >"$conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
fi
export SOFTHSM2_CONF=$conf
if ! softhsm2-util --show-slots 2>/dev/null | grep -q "Label:[[:space:]]*$label[[:space:]]*$"; then
	softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$pin" >/dev/null
fi
echo "SOFTHSM2_CONF=$conf"
