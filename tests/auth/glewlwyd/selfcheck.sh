#!/usr/bin/env bash
# Self-check of the Glewlwyd fixture: start a real Glewlwyd in a temporary
# directory, get tokens from it, verify them against the JWKS named by its
# discovery document with PyJWT (Debian's python3-jwt, run by Debian's
# /usr/bin/python3), check iss/aud/exp/roles, stop it.
#
# Needs the Debian packages: glewlwyd openssl python3-jwt python3-cryptography
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
GW="$HERE/glewlwyd.sh"
SYSPY=/usr/bin/python3
RESOURCE=${GLEWLWYD_SELFCHECK_RESOURCE:-http://127.0.0.1:8001}

[ -x "$SYSPY" ] || { echo "selfcheck: $SYSPY missing (Debian package python3)" >&2; exit 1; }
"$SYSPY" -c 'import jwt, cryptography' 2>/dev/null || {
    echo "selfcheck: $SYSPY cannot import jwt/cryptography: apt-get install -y python3-jwt python3-cryptography" >&2
    exit 1
}

DIR=$(mktemp -d "${TMPDIR:-/tmp}/glewlwyd-selfcheck.XXXXXX")
cleanup() {
    "$GW" stop "$DIR" || true
    if [ "${KEEP:-0}" = 1 ]; then echo "selfcheck: kept $DIR" >&2; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

t0=$(date +%s.%N)
INFO=$("$GW" start "$DIR")
t1=$(date +%s.%N)
echo "start: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"
echo "info: $INFO"

TOKEN_AUD=$("$GW" token "$DIR" "$RESOURCE")
TOKEN_PWD=$("$GW" token "$DIR")

"$SYSPY" - "$INFO" "$RESOURCE" "$TOKEN_AUD" "$TOKEN_PWD" "$DIR/counts" <<'EOF' || true
import base64, json, sys, time, urllib.parse, urllib.request
import jwt

info, resource, tok_aud, tok_pwd = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
passed = failed = 0

def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   - " + name)
    else:
        failed += 1
        print("FAIL - %s %s" % (name, detail))

def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)

def b64json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

disco = get_json(info["discovery"])
check("discovery issuer", disco["issuer"] == info["issuer"], disco.get("issuer"))
check("discovery jwks_uri", disco["jwks_uri"] == info["jwks_uri"], disco.get("jwks_uri"))
check("discovery token_endpoint", disco["token_endpoint"] == info["token_endpoint"])
check("RS256 advertised", "RS256" in disco.get("access_token_signing_alg_values_supported", []))
jwks = get_json(disco["jwks_uri"])
check("JWKS has one RSA key", len(jwks["keys"]) == 1 and jwks["keys"][0]["kty"] == "RSA", jwks)

header = jwt.get_unverified_header(tok_aud)
print("header:  " + json.dumps(header))
print("payload: " + json.dumps(b64json(tok_aud.split(".")[1])))
check("header alg RS256", header.get("alg") == "RS256", header)
check("header typ at+jwt", header.get("typ") == "at+jwt", header)
check("header kid in JWKS", header.get("kid") in [k.get("kid") for k in jwks["keys"]], header)

key = jwt.PyJWKClient(disco["jwks_uri"]).get_signing_key_from_jwt(tok_aud).key
opts = {"require": ["exp", "iat", "iss", "aud", "sub"]}
try:
    claims = jwt.decode(tok_aud, key, algorithms=["RS256"], audience=resource,
                        issuer=info["issuer"], options=opts)
    check("signature, iss, aud, exp verified", True)
except jwt.PyJWTError as e:
    claims = {}
    check("signature, iss, aud, exp verified", False, repr(e))
now = time.time()
check("aud is the resource", claims.get("aud") == resource, claims.get("aud"))
check("exp in the future, lifetime 3600 s",
      claims.get("exp", 0) > now and claims.get("exp", 0) - claims.get("iat", 0) == 3600, claims)
check("roles claim", claims.get("roles") == "developer,reviewer", claims.get("roles"))
check("roles as list", "developer" in claims.get("roles", "").split(","))
check("scope carries the roles too", set(claims.get("scope", "").split()) >= {"developer", "reviewer"},
      claims.get("scope"))
check("client_id", claims.get("client_id") == info["client_id"], claims.get("client_id"))
check("preferred_username", claims.get("preferred_username") == info["user"], claims.get("preferred_username"))
check("type access_token", claims.get("type") == "access_token")

# a resource server configured for another audience must refuse it
try:
    jwt.decode(tok_aud, key, algorithms=["RS256"], audience="https://elsewhere.test/", issuer=info["issuer"])
    check("wrong audience refused", False)
except jwt.InvalidAudienceError:
    check("wrong audience refused", True)

# tampering with the payload breaks the signature
h, p, s = tok_aud.split(".")
forged = dict(b64json(p), roles="admin")
p2 = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
try:
    jwt.decode(".".join([h, p2, s]), key, algorithms=["RS256"], audience=resource)
    check("forged payload refused", False)
except jwt.InvalidSignatureError:
    check("forged payload refused", True)

# password grant (no resource): verifies too, but aud is the scope string
c2 = jwt.decode(tok_pwd, key, algorithms=["RS256"], issuer=info["issuer"],
                options={"verify_aud": False, "require": ["exp", "iss", "aud"]})
check("password-grant token verifies", True)
check("password-grant aud = scope list", c2.get("aud") == c2.get("scope") == "openid developer reviewer", c2)
check("password-grant roles", c2.get("roles") == "developer,reviewer", c2.get("roles"))

# client_credentials grant (no user): signed the same way, sub = client_id
req = urllib.request.Request(info["token_endpoint"], data=urllib.parse.urlencode(
    {"grant_type": "client_credentials", "scope": "developer"}).encode(), headers={
    "Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (info["client_id"], info["client_secret"])).encode()).decode()})
with urllib.request.urlopen(req, timeout=10) as r:
    tok_cc = json.load(r)["access_token"]
c3 = jwt.decode(tok_cc, key, algorithms=["RS256"], issuer=info["issuer"], audience="developer")
check("client_credentials token verifies, sub = client_id", c3.get("sub") == info["client_id"], c3)

with open(sys.argv[5], "w") as f:
    f.write("%d %d\n" % (passed, failed))
EOF

if ! read -r passed failed < "$DIR/counts" 2>/dev/null; then
    echo "FAIL - the python checks did not finish"; passed=0; failed=1
fi
PID=$(cat "$DIR/pid")
"$GW" stop "$DIR"
if [ -e "/proc/$PID" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$PID/status" 2>/dev/null; then
    echo "FAIL - glewlwyd pid $PID still running after stop"; failed=$((failed + 1))
else
    echo "ok   - stopped (pid $PID gone)"; passed=$((passed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
