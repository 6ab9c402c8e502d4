#!/usr/bin/env python3
"""HTTP side of the Glewlwyd test fixture (see glewlwyd.sh and README.md).

Standard library only, so any python3 works (Debian's /usr/bin/python3 or
another one first on PATH). Talks to a running Glewlwyd 2.7.5 through its
real admin API and its real OIDC endpoints; never touches its database.

  glewlwyd_api.py wait      BASE PID TIMEOUT   poll BASE/config until it answers
  glewlwyd_api.py configure DIR               scopes, roles property, OIDC plugin,
                                              user, client, consent; checks a token
  glewlwyd_api.py token     DIR [RESOURCE]    print one access token for the user

DIR/port and DIR/signing-key.pem, DIR/signing-pub.pem are written by
glewlwyd.sh before `configure` runs.
"""

import base64
import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# The admin account comes from the SQL schema the package ships
# (INSERT INTO g_user ... 'admin', password hash of "password"). The
# instance listens on 127.0.0.1 only and its database is thrown away.
ADMIN_USER = "admin"
ADMIN_PASSWORD = "password"

PLUGIN = "oidc"
USER = "gwuser"
PASSWORD = "gwuser-test-password"
ROLES = ["developer", "reviewer"]
CLIENT_ID = "gw-client"
CLIENT_SECRET = "gw-client-test-secret"
# Never visited: the authorization code is read from the Location header.
REDIRECT_URI = "http://127.0.0.1/gw-client/callback"
USER_SCOPE = "openid " + " ".join(ROLES)


class Fail(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Session:
    """A cookie-keeping HTTP client that never follows redirects."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def call(self, method, path, body=None, form=None, basic=None, query=None, expect=(200,)):
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if basic:
            cred = base64.b64encode(("%s:%s" % basic).encode()).decode()
            headers["Authorization"] = "Basic " + cred
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            resp = self.opener.open(req, timeout=30)
            status, hdrs, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            status, hdrs, raw = e.code, e.headers, e.read()
        if status not in expect:
            raise Fail("%s %s -> HTTP %d %s" % (method, path, status, raw[:500].decode("utf-8", "replace")))
        text = raw.decode("utf-8", "replace")
        try:
            js = json.loads(text) if text.strip() else None
        except ValueError:
            js = None
        return status, hdrs, js, text


def read(path):
    with open(path) as f:
        return f.read()


def base_of(d):
    return "http://127.0.0.1:%d" % int(read(os.path.join(d, "port")).strip())


def login(s, user, password):
    s.call("POST", "/api/auth/", body={"username": user, "password": password})


def alive(pid):
    """True while pid runs; an exited child not yet reaped (zombie) is dead."""
    try:
        os.kill(int(pid), 0)
    except OSError:
        return False
    try:
        with open("/proc/%d/status" % int(pid)) as f:
            for line in f:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except OSError:
        pass
    return True


def cmd_wait(base, pid, timeout):
    deadline = time.monotonic() + float(timeout)
    s = Session(base)
    delay = 0.02
    while True:
        if not alive(pid):
            raise Fail("glewlwyd (pid %s) exited before answering" % pid)
        try:
            s.call("GET", "/config")
            return
        except (Fail, OSError):
            pass
        if time.monotonic() > deadline:
            raise Fail("glewlwyd did not answer on %s/config within %ss" % (base, timeout))
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def client_body(resources):
    return {
        "client_id": CLIENT_ID,
        "name": CLIENT_ID,
        "description": "foshub test client (confidential)",
        "enabled": True,
        "confidential": True,
        "client_secret": CLIENT_SECRET,
        # Without token_endpoint_auth_method, 2.7.5 rejects every
        # confidential client at /token (500, "Error
        # glewlwyd_callback_check_client_valid" in the log).
        "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"],
        "authorization_type": ["code", "password", "client_credentials", "refresh_token"],
        "redirect_uri": [REDIRECT_URI],
        # scopes a client_credentials token may carry
        "scope": ["developer"],
        # RFC 8707 resources this client may name (checked exactly)
        "resource": resources,
    }


def cmd_configure(d):
    base = base_of(d)
    port = int(read(os.path.join(d, "port")))
    issuer = "%s/api/%s" % (base, PLUGIN)
    admin = Session(base)
    login(admin, ADMIN_USER, ADMIN_PASSWORD)

    # 1. Let the database user backend store a multi-valued "roles" property.
    _, _, mod, _ = admin.call("GET", "/api/mod/user/database")
    for k in ("name", "module"):
        mod.setdefault(k, "database")
    mod["parameters"].setdefault("data-format", {})["roles"] = {
        "multiple": True, "read": True, "write": True,
        "profile-read": True, "profile-write": False}
    admin.call("PUT", "/api/mod/user/database", body=mod)
    admin.call("PUT", "/api/mod/user/database/reset")

    # 2. One Glewlwyd scope per role: the user's roles also land in "scope".
    for r in ROLES:
        admin.call("POST", "/api/scope/", body={
            "name": r, "display_name": r, "description": "foshub role " + r,
            "password_required": False, "password_max_age": 0, "scheme": {}})

    # 3. The OIDC plugin instance.
    params = {
        "iss": issuer,
        "jwt-type": "rsa",
        "jwt-key-size": "256",  # RS256
        "key": read(os.path.join(d, "signing-key.pem")),
        "cert": read(os.path.join(d, "signing-pub.pem")),
        "jwks-show": True,
        "access-token-duration": 3600,
        "refresh-token-duration": 1209600,
        "code-duration": 600,
        "refresh-token-rolling": True,
        "allow-non-oidc": True,  # password and client_credentials grants
        "auth-type-code-enabled": True,
        "auth-type-token-enabled": True,
        "auth-type-id-token-enabled": True,
        "auth-type-password-enabled": True,
        "auth-type-client-enabled": True,
        "auth-type-refresh-enabled": True,
        "subject-type": "public",
        # RFC 8707: "aud" = the requested resource when the client lists it
        "resource-allowed": True,
        "resource-client-property": "resource",
        "resource-scope": {},
        "resource-scope-and-client-property": False,
        "resource-change-allowed": False,
        # user properties -> access token claims ("sub" is an opaque id, so
        # the username is added as preferred_username)
        "additional-parameters": [
            {"user-parameter": "roles", "token-parameter": "roles"},
            {"user-parameter": "username", "token-parameter": "preferred_username"},
        ],
    }
    admin.call("POST", "/api/mod/plugin/", body={
        "module": "oidc", "name": PLUGIN, "display_name": "OpenID Connect", "parameters": params})

    # 4. The user and the client.
    admin.call("POST", "/api/user/", body={
        "username": USER, "name": "Glewlwyd test user", "email": "gwuser@example.test",
        "enabled": True, "password": PASSWORD, "scope": ["openid"] + ROLES, "roles": ROLES})
    admin.call("POST", "/api/client/", body=client_body([]))

    # 5. The user's consent for the client (needed by the code flow).
    user = Session(base)
    login(user, USER, PASSWORD)
    user.call("PUT", "/api/auth/grant/" + CLIENT_ID, body={"scope": USER_SCOPE})

    # 6. Check discovery and one token before reporting success.
    _, _, disco, _ = Session(base).call("GET", "/api/%s/.well-known/openid-configuration" % PLUGIN)
    if disco.get("issuer") != issuer:
        raise Fail("discovery issuer %r != %r" % (disco.get("issuer"), issuer))
    password_grant(Session(base))
    print(json.dumps({
        "issuer": issuer,
        "discovery": issuer + "/.well-known/openid-configuration",
        "jwks_uri": disco["jwks_uri"],
        "token_endpoint": disco["token_endpoint"],
        "port": port,
        "user": USER,
        "password": PASSWORD,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }))


def password_grant(s):
    _, _, js, _ = s.call("POST", "/api/%s/token" % PLUGIN, basic=(CLIENT_ID, CLIENT_SECRET), form={
        "grant_type": "password", "username": USER, "password": PASSWORD, "scope": USER_SCOPE})
    return js["access_token"]


def ensure_resource(base, resource):
    admin = Session(base)
    login(admin, ADMIN_USER, ADMIN_PASSWORD)
    _, _, c, _ = admin.call("GET", "/api/client/" + CLIENT_ID)
    have = c.get("resource") or []
    if isinstance(have, str):
        have = [have]
    if resource not in have:
        admin.call("PUT", "/api/client/" + CLIENT_ID, body=client_body(have + [resource]))


def code_flow(base, resource):
    """Authorization code flow without a browser: the user's session cookie
    comes from the login API, the code from the 302's Location header."""
    s = Session(base)
    login(s, USER, PASSWORD)
    q = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
         "scope": USER_SCOPE, "resource": resource, "state": "s", "nonce": os.urandom(8).hex(),
         "g_continue": ""}
    status, hdrs, _, text = s.call("GET", "/api/%s/auth" % PLUGIN, query=q, expect=(302,))
    loc = hdrs.get("Location", "")
    qs = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
    if "code" not in qs:
        raise Fail("no code in redirect %r (resource %r must be an absolute https:// URI or "
                   "http://127.0.0.1/localhost URI)" % (loc, resource))
    _, _, js, _ = s.call("POST", "/api/%s/token" % PLUGIN, basic=(CLIENT_ID, CLIENT_SECRET), form={
        "grant_type": "authorization_code", "code": qs["code"][0], "redirect_uri": REDIRECT_URI,
        "resource": resource})
    return js["access_token"]


def cmd_token(d, resource=None):
    base = base_of(d)
    if resource:
        if not re.match(r"(https://|http://(localhost|127\.0\.0\.1|\[::1\])([:/]|$))", resource):
            raise Fail("resource %r refused before asking: Glewlwyd 2.7.5 accepts only https:// "
                       "URIs and http://localhost or 127.0.0.1 URIs as resource indicators" % resource)
        # Glewlwyd 2.7.5 ignores "resource" in the password grant, so a token
        # with a chosen audience comes from the code flow.
        ensure_resource(base, resource)
        print(code_flow(base, resource))
    else:
        print(password_grant(Session(base)))


def main(argv):
    if len(argv) >= 2 and argv[1] == "wait" and len(argv) == 5:
        cmd_wait(argv[2], argv[3], argv[4])
    elif len(argv) == 3 and argv[1] == "configure":
        cmd_configure(argv[2])
    elif len(argv) in (3, 4) and argv[1] == "token":
        cmd_token(argv[2], argv[3] if len(argv) == 4 else None)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Fail as e:
        sys.stderr.write("glewlwyd_api: %s\n" % e)
        sys.exit(1)
