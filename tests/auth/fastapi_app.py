"""fastapi_app.py - a minimal FastAPI service, as the organisation's other
services are, that accepts the hubs' tokens the way docs/iam-profile.md
says a resource server must: signature against the issuer's JWKS
(discovered, cached), the issuer, its own audience, expiry; roles from
`roles` or Keycloak's `realm_access.roles`.

Run by tests/auth/contract.test.mjs with Debian's python3-fastapi,
python3-uvicorn and python3-jwt:
    ISSUER=... AUDIENCE=... /usr/bin/python3 -m uvicorn --app-dir tests/auth fastapi_app:app
"""
import json
import os
import urllib.request

import jwt
from fastapi import FastAPI, Header, HTTPException

ISSUER = os.environ["ISSUER"]
AUDIENCE = os.environ["AUDIENCE"]

with urllib.request.urlopen(ISSUER + "/.well-known/openid-configuration", timeout=5) as r:
    discovery = json.load(r)
if discovery["issuer"] != ISSUER:
    raise SystemExit("discovery document of another issuer")
jwks = jwt.PyJWKClient(discovery["jwks_uri"], cache_keys=True)

app = FastAPI()


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/me")
def me(authorization: str = Header(default="")):
    if not authorization.startswith("Bearer "):
        raise HTTPException(status_code=401, detail="a bearer token is needed",
                            headers={"WWW-Authenticate": "Bearer"})
    token = authorization[7:]
    try:
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256", "ES256"],
                            audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "iss", "aud", "sub"]})
    except jwt.PyJWTError as e:
        raise HTTPException(status_code=401, detail=str(e),
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    roles = claims.get("roles") or claims.get("realm_access", {}).get("roles", [])
    return {"sub": claims["sub"], "roles": roles, "exp": claims["exp"]}
