#!/bin/sh
# install-deps.sh - install the Debian packages foshub needs, if missing.
#
#   scripts/install-deps.sh build   libraries and tools to build
#   scripts/install-deps.sh test    everything `make test` needs as well
#   scripts/install-deps.sh bench   the benchmark's tools (make bench; the
#                                   smoke of make test needs them too)
#
# Idempotent: when every package is installed it does nothing, and it runs
# `apt-get update` only when something is missing. Uses sudo when not root.
set -eu

build_pkgs="pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev
libyaml-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libssl-dev
libcsv-dev libcjose-dev libargon2-dev liboath-dev libqrencode-dev
libcurl4-openssl-dev libpq-dev libnats-dev"
# chromium: the browser tests (tests/ui) drive it with playwright-core;
# wrk and hyperfine drive the benchmark, nginx is its reference; the soak
# runs a hub under valgrind; nats-server: the events tests run over NATS
# JetStream too
bench_pkgs="wrk hyperfine nginx-light valgrind"
test_pkgs="libcmocka-dev sqlite3 oathtool openssl glewlwyd python3-fastapi
python3-uvicorn python3-jwt python3-cryptography clang libclang-rt-14-dev
postgresql chromium fonts-dejavu-core nats-server $bench_pkgs"

case "${1:-build}" in
build) pkgs=$build_pkgs ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
bench) pkgs="$build_pkgs $bench_pkgs" ;;
*) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

sudo=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "install-deps: missing packages:$missing" >&2
		echo "install-deps: run as root or install sudo" >&2
		exit 1
	}
	sudo=sudo
fi
echo "install-deps: installing:$missing" >&2
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
	--no-install-recommends $missing
