#!/bin/bash
# Builds libsrtp2 from Debian's source package against OpenSSL (the fair, faster reference for P1)
# under $MG_ROOT/build-deps/libsrtp2-openssl (not committed). Idempotent.
set -euo pipefail
MG_ROOT=${MG_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
DEST=$MG_ROOT/build-deps/libsrtp2-openssl
if [ -f "$DEST/src/libsrtp2.so.1" ]; then
	echo "libsrtp2+OpenSSL already built: $DEST/src"
	exit 0
fi
# apt-get source needs a deb-src entry: add a copy of the deb822 stanza with Types: deb-src.
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	src=/etc/apt/sources.list.d/debian.sources
	[ -f "$src" ] || { echo "no $src to derive a deb-src entry from" >&2; exit 1; }
	sed 's/^Types: deb$/Types: deb-src/' "$src" >/etc/apt/sources.list.d/mediagate-deb-src.sources
	apt-get update -qq
fi
mkdir -p "$DEST"
cd "$DEST"
rm -rf unpack && mkdir unpack && cd unpack
apt-get source -qq libsrtp2 >/dev/null
srcdir=$(find . -maxdepth 1 -type d -name 'libsrtp2-*' | head -1)
[ -n "$srcdir" ] || { echo "apt-get source libsrtp2 produced no directory" >&2; exit 1; }
cd "$srcdir"
./configure --enable-openssl CFLAGS="-O2 -march=native" >configure.log
make -j"$(nproc)" shared_library >make.log
rm -rf "$DEST/src" && mkdir -p "$DEST/src"
cp -a libsrtp2.so* "$DEST/src/"
[ -e "$DEST/src/libsrtp2.so.1" ] || ln -sf "$(ls "$DEST"/src/libsrtp2.so.* | head -1)" "$DEST/src/libsrtp2.so.1"
grep -q 'define OPENSSL 1' crypto/include/config.h 2>/dev/null || grep -q 'OPENSSL 1' config.h 2>/dev/null &&
	echo "configured with OpenSSL" || echo "warning: OPENSSL define not found in config.h" >&2
echo "libsrtp2+OpenSSL built: $DEST/src"
