#!/usr/bin/env bash
# Real Glewlwyd (Debian 12 package glewlwyd 2.7.5) as a second OpenID
# Connect issuer for foshub's tests. See README.md beside this file.
#
#   glewlwyd.sh start DIR            start + configure, print one JSON object
#   glewlwyd.sh token DIR [RESOURCE] print one access token for gwuser
#   glewlwyd.sh stop  DIR            stop the instance started in DIR
#
# Needs: glewlwyd (brings sqlite3), openssl, python3. Installs nothing.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
API="$HERE/glewlwyd_api.py"
PY=${PYTHON:-python3}
START_TIMEOUT=${GLEWLWYD_START_TIMEOUT:-20}   # seconds, per attempt
LOG_LEVEL=${GLEWLWYD_LOG_LEVEL:-DEBUG}

die() { echo "glewlwyd.sh: $*" >&2; exit 1; }

usage() {
    echo "usage: $0 start DIR | token DIR [RESOURCE] | stop DIR" >&2
    exit 2
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install the Debian package $2 (apt-get install -y $2)"
}

abs_dir() {
    [ -n "$1" ] || usage
    mkdir -p "$1"
    (cd "$1" && pwd)
}

# The SQL schema the package ships (dbconfig-common copy first: it is not
# under /usr/share/doc, which minimal images may strip).
schema() {
    local f=/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3
    local g=/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz
    if [ -r "$f" ]; then cat "$f"
    elif [ -r "$g" ]; then gzip -dc "$g"
    else die "no SQLite schema found ($f or $g): is the glewlwyd package installed completely?"
    fi
}

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# pid from DIR/pid, only if that process is still the glewlwyd of DIR
running_pid() {
    local d=$1 pid
    [ -r "$d/pid" ] || return 1
    pid=$(cat "$d/pid")
    case $pid in ''|*[!0-9]*) return 1 ;; esac
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$d/config" || return 1
    echo "$pid"
}

write_config() {
    local d=$1 port=$2
    cat > "$d/config" <<EOF
# Glewlwyd test instance for foshub (tests/auth/glewlwyd/glewlwyd.sh)
port=$port
bind_address="127.0.0.1"
external_url="http://127.0.0.1:$port"
login_url="login.html"
api_prefix="api"
allow_origin="*"
log_mode="console"
log_level="$LOG_LEVEL"
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
admin_scope="g_admin"
profile_scope="g_profile"
hash_algorithm="SHA512"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
# no use_secure_connection line: 2.7.5 then demands certificate files even
# when it is false
database =
{
  type = "sqlite3"
  path = "$d/glewlwyd.db"
};
EOF
}

cmd_start() {
    local d port pid attempt info
    need glewlwyd glewlwyd
    need sqlite3 sqlite3
    need openssl openssl
    need "$PY" python3
    [ -d /usr/lib/glewlwyd/plugin ] || die "/usr/lib/glewlwyd/plugin missing: install the Debian package glewlwyd"
    d=$(abs_dir "${1:-}")
    case $d in *'"'*|*'\'*) die "DIR must not contain '\"' or '\\': $d" ;; esac
    if pid=$(running_pid "$d"); then die "already running in $d (pid $pid)"; fi
    [ ! -e "$d/glewlwyd.db" ] || die "$d/glewlwyd.db exists: start wants a fresh DIR"

    schema | sqlite3 "$d/glewlwyd.db"
    openssl genrsa -out "$d/signing-key.pem" 2048 2>/dev/null
    openssl rsa -in "$d/signing-key.pem" -pubout -out "$d/signing-pub.pem" 2>/dev/null
    : > "$d/log"

    # A free port can be taken between the probe and glewlwyd's bind: retry.
    for attempt in 1 2 3; do
        port=$(free_port)
        echo "$port" > "$d/port"
        write_config "$d" "$port"
        glewlwyd --config-file "$d/config" < /dev/null >> "$d/log" 2>&1 &
        pid=$!
        echo "$pid" > "$d/pid"
        if "$PY" "$API" wait "http://127.0.0.1:$port" "$pid" "$START_TIMEOUT"; then
            break
        fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        [ "$attempt" -lt 3 ] || die "glewlwyd did not start; see $d/log"
        echo "glewlwyd.sh: retrying on another port" >&2
    done

    if ! info=$("$PY" "$API" configure "$d"); then
        cmd_stop "$d"
        die "configuration through the admin API failed (glewlwyd stopped); see $d/log"
    fi
    # add the pid to the JSON printed by the helper
    info=$("$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); j["pid"]=int(sys.argv[2]); print(json.dumps(j))' "$info" "$pid")
    echo "$info" > "$d/info.json"
    echo "$info"
}

cmd_token() {
    local d
    need "$PY" python3
    d=$(cd "${1:?DIR}" 2>/dev/null && pwd) || die "no such DIR: ${1:-}"
    running_pid "$d" >/dev/null || die "no glewlwyd running in $d"
    if [ $# -ge 2 ]; then
        "$PY" "$API" token "$d" "$2"
    else
        "$PY" "$API" token "$d"
    fi
}

cmd_stop() {
    local d pid i
    d=$(cd "${1:?DIR}" 2>/dev/null && pwd) || die "no such DIR: ${1:-}"
    pid=$(running_pid "$d") || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do          # up to 5 s
        [ -e "/proc/$pid" ] || return 0
        # a zombie child of ours counts as gone
        grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
}

[ $# -ge 2 ] || usage
case $1 in
    start) [ $# -eq 2 ] || usage; cmd_start "$2" ;;
    token) [ $# -le 3 ] || usage; shift; cmd_token "$@" ;;
    stop)  [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
    *) usage ;;
esac
