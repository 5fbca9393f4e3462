#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/deps.d/*.apt (one per line, '#' comments).
# Idempotent: only missing packages are installed, and apt lists are refreshed only then.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t wanted < <(cat "$here"/deps.d/*.apt | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in "${wanted[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# npm packages needed by tests (scripts/deps.d/*.npm), installed into the project's own tree.
if compgen -G "$here/deps.d/*.npm" >/dev/null; then
	mapfile -t npms < <(cat "$here"/deps.d/*.npm | sed 's/#.*//' | sed '/^$/d' | sort -u)
	if [ ${#npms[@]} -gt 0 ]; then
		prefix="$here/../build-deps/npm"
		mkdir -p "$prefix"
		need=0
		for n in "${npms[@]}"; do
			name=${n%@*}; [ -n "$name" ] || name=$n
			[ -d "$prefix/node_modules/$name" ] || need=1
		done
		if [ $need -eq 1 ]; then
			command -v npm >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
			echo "deps: npm install ${npms[*]}"
			(cd "$prefix" && npm install --no-audit --no-fund --silent "${npms[@]}" >/dev/null)
		fi
	fi
fi
