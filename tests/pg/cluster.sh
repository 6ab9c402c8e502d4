#!/bin/sh
# cluster.sh - a throwaway PostgreSQL cluster for the tests.
#
#   tests/pg/cluster.sh start DIR   initdb DIR, start it on a free loopback
#                                   port, print its URL
#   tests/pg/cluster.sh stop DIR    stop it and remove DIR
#
# Uses initdb and pg_ctl of Debian's postgresql package. The cluster trusts
# local connections, keeps no data safe (fsync off: it is thrown away) and
# listens on 127.0.0.1 only. As root (CI) the server runs as the postgres
# user that the package creates, since PostgreSQL refuses to run as root.
set -eu

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || {
	echo "cluster.sh: initdb not found (apt-get install postgresql)" >&2
	exit 1
}

as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: $0 start|stop DIR" >&2
	exit 2
}

case "$cmd" in
start)
	rm -rf "$dir"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$dir"
		# the server user must reach its directory
		d=$dir
		while [ "$d" != / ]; do
			d=$(dirname "$d")
			chmod o+x "$d" 2>/dev/null || true
		done
	fi
	chmod 700 "$dir"
	as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB" \
		start >/dev/null || {
		cat "$dir/server.log" >&2
		exit 1
	}
	echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/url"
	cat "$dir/url"
	;;
stop)
	if [ -d "$dir/data" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
			>/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
