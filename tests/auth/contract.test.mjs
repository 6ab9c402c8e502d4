// contract.test.mjs - the IAM profile's contract end to end (workplan
// task T03): a user logs in through foshub's IdP with the authorization
// code flow and PKCE (openid-client), calls a protected hub, and the hub
// sees the same sub, roles and expiry; a minimal FastAPI service accepts
// the same token with PyJWT's JWKS client. Then every bad token the
// profile lists is refused with the right status.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startIdp, login, PW, SECRETS, freePort, BIN, run, sleep } from '../idp/idp.mjs';
import { startHub, idpKeys, forge, b64u, get } from './hubs.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const insecure = { execute: [client.allowInsecureRequests] };
const CB = 'http://127.0.0.1:5555/cb';

let idp, hub, dir, pub, keys;

before(async () => {
  idp = await startIdp();
  dir = mkdtempSync(join(tmpdir(), 'foshub-auth-'));
  hub = await startHub({ db: 'sqlite:' + join(dir, 'dev.db'), issuers: [idp.url] });
  pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
  keys = idpKeys(join(idp.dir, 'keys'));
});

after(async () => {
  await hub?.stop();
  await idp?.stop();
  idp?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// A user's access token for the hub, through the browser flow.
async function userToken(username) {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(pub, {
    redirect_uri: CB, scope: 'openid profile', state: 's', resource: hub.url,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const r = await login(idp.url, url, { username, password: PW[username] });
  assert.equal(r.status, 302, r.html);
  const tokens = await client.authorizationCodeGrant(pub, new URL(r.location),
                                                     { pkceCodeVerifier: verifier, expectedState: 's' });
  return tokens.access_token;
}

const now = () => Math.floor(Date.now() / 1000);
function claims(extra = {}) {
  return { iss: idp.url, sub: 'alice', aud: hub.url, iat: now(), exp: now() + 300,
           client_id: 'rp-public', roles: ['admin'], ...extra };
}

describe('the contract (T03)', () => {
  let alice;

  test('a token from the code flow reaches the hub with its sub, roles and expiry', async () => {
    alice = await userToken('alice');
    const t = jose.decodeJwt(alice);
    const r = await get(hub.url, alice);
    assert.equal(r.status, 200);
    assert.equal(r.json.sub, 'alice');
    assert.equal(r.json.iss, idp.url);
    assert.deepEqual(r.json.roles, ['admin', 'developer']);
    assert.equal(r.json.permission, 'admin');
    assert.equal(r.json.exp, t.exp);
    assert.equal(r.json.service, false);
  });

  test('the token reads and writes the hub', async () => {
    assert.equal((await get(hub.url, alice, '/tasks?limit=1')).status, 200);
    const w = await get(hub.url, alice, '/domains', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Auth test' }),
    });
    assert.equal(w.status, 201, w.text);
  });

  test('a minimal FastAPI service accepts the same token (PyJWT, JWKS)', async () => {
    const port = await freePort();
    const app = spawn('/usr/bin/python3', ['-m', 'uvicorn', '--app-dir', HERE, '--host', '127.0.0.1',
                                           '--port', String(port), '--log-level', 'warning', 'fastapi_app:app'],
                      { env: { ...process.env, ISSUER: idp.url, AUDIENCE: hub.url }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    app.stderr.on('data', (d) => { log += d; });
    try {
      let r;
      for (let i = 0; i < 100; i++) {
        try { r = await fetch(`http://127.0.0.1:${port}/healthz`); break; } catch { await new Promise((s) => setTimeout(s, 100)); }
      }
      assert.ok(r && r.status === 200, 'FastAPI did not start: ' + log);
      const ok = await get(`http://127.0.0.1:${port}`, alice, '/me');
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.sub, 'alice');
      assert.deepEqual(ok.json.roles, ['admin', 'developer']);
      const bad = await get(`http://127.0.0.1:${port}`, alice.slice(0, -4) + 'AAAA', '/me');
      assert.equal(bad.status, 401);
      const none = await get(`http://127.0.0.1:${port}`, null, '/me');
      assert.equal(none.status, 401);
    } finally {
      app.kill('SIGTERM');
    }
  });

  test('a service account gets a token for the hub with client_credentials', async () => {
    const svc = await client.discovery(new URL(idp.url), 'svc', undefined,
                                       client.ClientSecretBasic(SECRETS.svc), insecure);
    // svc may only ask for http://127.0.0.1:8001 in the fixture: a token
    // for it is not for this hub
    const other = await client.clientCredentialsGrant(svc, { resource: 'http://127.0.0.1:8001' });
    const r = await get(hub.url, other.access_token);
    assert.equal(r.status, 401);
    assert.match(r.json.detail, /not for this hub/);
  });
});

describe('hub-to-hub', () => {
  const token = (aud, env = {}) => spawnSync(BIN, ['token', '--issuer', idp.url, '--client-id', 'hub-svc', aud], {
    encoding: 'utf8', env: { ...process.env, FOSHUB_AUTH_CLIENT_SECRET: SECRETS['hub-svc'], ...env },
  });

  test('foshub token gets a service-account token the hub accepts', async () => {
    const r = token(hub.url);
    assert.equal(r.status, 0, r.stderr);
    const w = await get(hub.url, r.stdout.trim());
    assert.equal(w.status, 200, w.text);
    assert.equal(w.json.sub, 'service-account-hub-svc');
    assert.equal(w.json.service, true);
    assert.equal(w.json.permission, 'write');
  });

  test('a wrong secret is refused with the provider\'s reason', () => {
    const r = token(hub.url, { FOSHUB_AUTH_CLIENT_SECRET: 'wrong' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /HTTP 401: client authentication failed/);
  });
});

describe('refusals', () => {
  const refused = async (token, why, status = 401) => {
    const r = await get(hub.url, token);
    assert.equal(r.status, status, r.text);
    assert.match(r.json.detail, why);
    if (status === 401) {
      const h = r.headers.get('www-authenticate');
      assert.match(h, /^Bearer /);
      assert.match(h, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"/);
      if (token) assert.match(h, /error="invalid_(token|request)"/);
    }
    return r;
  };

  test('no token, or not in the Authorization header', async () => {
    await refused(null, /bearer token is needed/);
    const q = await get(hub.url, null, '/whoami?access_token=' + (await forge(keys, claims())));
    assert.equal(q.status, 401);
    const basic = await get(hub.url, null, '/whoami', { headers: { Authorization: 'Basic YTpi' } });
    assert.equal(basic.status, 401);
  });

  test('a well-forged token passes (the forge is right)', async () => {
    const r = await get(hub.url, await forge(keys, claims()));
    assert.equal(r.status, 200, r.text);
  });

  test('expired, not yet valid, issued in the future', async () => {
    await refused(await forge(keys, claims({ exp: now() - 3600, iat: now() - 7200 })), /expired/);
    await refused(await forge(keys, claims({ nbf: now() + 3600 })), /not valid yet/);
    await refused(await forge(keys, claims({ iat: now() + 3600 })), /issued in the future/);
    await refused(await forge(keys, claims({ exp: undefined })), /no exp/);
  });

  test('wrong audience, wrong issuer', async () => {
    await refused(await forge(keys, claims({ aud: 'http://127.0.0.1:1' })), /not for this hub/);
    await refused(await forge(keys, claims({ iss: 'http://evil.example' })), /not trusted/);
  });

  test('a tampered or stripped signature', async () => {
    const t = await forge(keys, claims());
    const [h, p, s] = t.split('.');
    const other = b64u(JSON.stringify({ ...claims(), roles: ['admin'], sub: 'mallory' }));
    await refused(`${h}.${other}.${s}`, /signature does not verify/);
    const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    await refused(`${h}.${p}.${flipped}`, /signature does not verify/);
    await refused(`${h}.${p}.`, /not a signed JWT/);
  });

  test('alg none', async () => {
    const h = b64u(JSON.stringify({ alg: 'none', typ: 'at+jwt' }));
    await refused(`${h}.${b64u(JSON.stringify(claims()))}.`, /not a signed JWT|algorithm 'none'/);
    await refused(`${h}.${b64u(JSON.stringify(claims()))}.c2ln`, /algorithm 'none' is not accepted/);
  });

  test('HS256 signed with the public key as the secret', async () => {
    const pem = createPublicKey({ key: keys.RS256, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const t = await new jose.SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: keys.RS256.kid, typ: 'at+jwt' })
      .sign(new TextEncoder().encode(pem));
    await refused(t, /algorithm 'HS256' is not accepted/);
  });

  test('a token that brings its own key (jwk, jku, x5u, x5c) or names another', async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    const own = await new jose.SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', jwk }).sign(privateKey);
    await refused(own, /header parameter 'jwk' is not accepted/);
    const jku = await new jose.SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'x', jku: 'http://127.0.0.1:1/jwks' }).sign(privateKey);
    await refused(jku, /header parameter 'jku' is not accepted/);
    const x5u = await forge(keys, claims(), { header: { x5u: 'http://127.0.0.1:1/cert' } });
    await refused(x5u, /header parameter 'x5u' is not accepted/);
    // our kid, a stranger's signature
    const kid = await new jose.SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: keys.RS256.kid }).sign(privateKey);
    await refused(kid, /signature does not verify/);
    // a kid that is a path, or unknown
    await refused(await new jose.SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: '../../etc/passwd' }).sign(privateKey),
                  /no key of the issuer fits/);
    // the ES256 key's kid with an RS256 signature: the key does not fit
    await refused(await new jose.SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: keys.ES256.kid }).sign(privateKey),
                  /no key of the issuer fits/);
  });

  test('an ID token is not an access token', async () => {
    await refused(await forge(keys, claims(), { header: { typ: 'id+jwt' } }), /not an access token/);
  });

  test('a missing role is 403 with insufficient_scope', async () => {
    const nora = await userToken('nora');
    const r = await get(hub.url, nora);
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate'), /error="insufficient_scope"/);
    assert.match(r.json.detail, /needs the read permission/);
    // a viewer reads but does not write
    const erin = await userToken('erin');
    assert.equal((await get(hub.url, erin, '/tasks?limit=1')).status, 200);
    const w = await get(hub.url, erin, '/domains', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Nope' }),
    });
    assert.equal(w.status, 403);
    assert.match(w.json.detail, /needs the write permission/);
  });

  test('health, readiness and the metadata stay public', async () => {
    for (const p of ['/healthz', '/readyz', '/.well-known/oauth-protected-resource']) {
      const r = await get(hub.url, null, p);
      assert.equal(r.status, 200, p);
    }
    const m = (await get(hub.url, null, '/.well-known/oauth-protected-resource')).json;
    assert.equal(m.resource, hub.url);
    assert.deepEqual(m.authorization_servers, [idp.url]);
  });

  test('refusals are logged without the token', async () => {
    assert.match(hub.log(), /token refused: the signature does not verify/);
    assert.doesNotMatch(hub.log(), /eyJ[A-Za-z0-9_-]{20,}/);
  });
});

describe('keys and algorithms', () => {
  test('after a key rotation the hub fetches the new JWKS for the unknown kid', async () => {
    const before = await userToken('erin');
    assert.equal((await get(hub.url, before)).status, 200);
    const r = run(['idp', 'rotate-keys', '--config', idp.config]);
    assert.equal(r.status, 0, r.stderr);
    await idp.hup(/configuration reloaded/);
    const after = await userToken('erin');
    assert.notEqual(jose.decodeProtectedHeader(after).kid, jose.decodeProtectedHeader(before).kid);
    // fetched again at most every 10 s: it passes within that
    let status = 0;
    for (const deadline = Date.now() + 15000; Date.now() < deadline && status !== 200;) {
      status = (await get(hub.url, after)).status;
      if (status !== 200) await sleep(500);
    }
    assert.equal(status, 200);
    // and the old key's tokens still pass: it stays published
    assert.equal((await get(hub.url, before)).status, 200);
  });

  test('only the configured algorithms pass', async () => {
    const d = mkdtempSync(join(tmpdir(), 'foshub-auth-es-'));
    const es = await startHub({ db: 'sqlite:' + join(d, 'dev.db'), issuers: [idp.url],
                                args: ['--auth-algorithms', 'ES256'] });
    try {
      const c = { ...claims(), aud: es.url };
      const rs = await get(es.url, await forge(keys, c, { alg: 'RS256' }));
      assert.equal(rs.status, 401);
      assert.match(rs.json.detail, /algorithm 'RS256' is not accepted/);
      const ok = await get(es.url, await forge(keys, c, { alg: 'ES256' }));
      assert.equal(ok.status, 200, ok.text);
    } finally {
      await es.stop();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
