// flows.test.mjs - the NetKingdom IdP seen by a real relying party:
// openid-client runs the authorization code flow with PKCE (the login page
// fetched and posted like a browser would), refresh, client credentials,
// userinfo, introspection, revocation and logout; jose verifies every token
// against /jwks.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startIdp, login, openAuthorize, submitLogin, Jar, PW, SECRETS, sleep } from './idp.mjs';

const insecure = { execute: [client.allowInsecureRequests] };
const CB = 'http://127.0.0.1:5555/cb'; // loopback: any port matches

let idp, pub, conf, svc, jwks;

before(async () => {
  idp = await startIdp();
  pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
  conf = await client.discovery(new URL(idp.url), 'rp-conf', undefined,
                                client.ClientSecretBasic(SECRETS['rp-conf']), insecure);
  svc = await client.discovery(new URL(idp.url), 'svc', undefined,
                               client.ClientSecretBasic(SECRETS.svc), insecure);
  jwks = jose.createRemoteJWKSet(new URL(idp.url + '/jwks'));
});

after(async () => {
  await idp?.stop();
  idp?.cleanup();
});

// One authorization code flow; returns { tokens, jar, verifier, nonce }.
async function codeFlow(cfg, { username = 'alice', password = PW[username], otp, jar,
                               redirect = CB, params = {} } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: redirect, scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state, nonce, ...params,
  });
  const r = await login(idp.url, url, { username, password, ...(otp ? { otp } : {}) }, jar);
  assert.equal(r.status, 302, `login should redirect: ${r.status} ${r.html}`);
  const tokens = await client.authorizationCodeGrant(cfg, new URL(r.location), {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  return { tokens, jar: r.jar, verifier, location: r.location };
}

async function verifyAccess(token, audience) {
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
    issuer: idp.url, audience, typ: 'at+jwt', algorithms: ['RS256', 'ES256'],
  });
  return { payload, protectedHeader };
}

describe('discovery and keys', () => {
  test('both metadata documents name the issuer exactly as configured', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const m = await (await fetch(idp.url + path)).json();
      assert.equal(m.issuer, idp.url);
      assert.equal(m.token_endpoint, idp.url + '/token');
      assert.equal(m.jwks_uri, idp.url + '/jwks');
      assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
      assert.equal(m.authorization_response_iss_parameter_supported, true);
    }
  });

  test('the JWKS has an ES256 and an RS256 public key, and nothing private', async () => {
    const { keys } = await (await fetch(idp.url + '/jwks')).json();
    assert.deepEqual(keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    for (const k of keys) {
      assert.ok(k.kid);
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[priv], undefined);
    }
  });

  test('keys on disk are private to the owner', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const dir = idp.dir + '/keys';
    const files = readdirSync(dir);
    assert.ok(files.length >= 2);
    for (const f of files) assert.equal(statSync(dir + '/' + f).mode & 0o077, 0, f);
  });
});

describe('authorization code flow with PKCE', () => {
  let first;

  test('a public client logs a user in and gets verifiable tokens', async () => {
    first = await codeFlow(pub, { params: { resource: 'http://127.0.0.1:8001' } });
    const { tokens } = first;
    assert.ok(tokens.refresh_token);
    // the ID token: checked by openid-client (signature, iss, aud, nonce)
    const id = tokens.claims();
    assert.equal(id.sub, 'alice');
    assert.equal(id.aud, 'rp-public');
    assert.equal(id.email, 'alice@example.test');
    assert.deepEqual(id.amr, ['pwd']);
    // the access token: RFC 9068, with roles in both shapes
    const { payload, protectedHeader } = await verifyAccess(tokens.access_token, 'http://127.0.0.1:8001');
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.client_id, 'rp-public');
    assert.equal(payload.scope, 'openid profile email offline_access');
    assert.deepEqual(payload.roles, ['admin', 'developer']);
    assert.deepEqual(payload.realm_access.roles, ['admin', 'developer']);
    assert.ok(payload.exp > payload.iat && payload.jti);
  });

  test('the callback carries iss (RFC 9207)', () => {
    assert.equal(new URL(first.location).searchParams.get('iss'), idp.url);
  });

  test('userinfo answers for the access token', async () => {
    const ui = await client.fetchUserInfo(pub, first.tokens.access_token, 'alice');
    assert.equal(ui.sub, 'alice');
    assert.equal(ui.email, 'alice@example.test');
    assert.equal(ui.name, 'Alice Test');
    const bad = await fetch(idp.url + '/userinfo', { headers: { Authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate'), /invalid_token/);
  });

  test('a live session answers the next request without the login page', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(pub, {
      redirect_uri: CB, scope: 'openid', state: 's2',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const r = await openAuthorize(url, first.jar);
    assert.equal(r.status, 302);
    assert.match(r.location, /^http:\/\/127\.0\.0\.1:5555\/cb\?code=/);
  });

  test('refresh rotates the token; reusing an old one revokes the family', async () => {
    const r1 = await client.refreshTokenGrant(pub, first.tokens.refresh_token);
    assert.ok(r1.refresh_token && r1.refresh_token !== first.tokens.refresh_token);
    await verifyAccess(r1.access_token, 'http://127.0.0.1:8001'); // the resource stays
    const r2 = await client.refreshTokenGrant(pub, r1.refresh_token);
    // the first refresh token again: a theft signal
    await assert.rejects(client.refreshTokenGrant(pub, first.tokens.refresh_token),
                         (e) => e.error === 'invalid_grant');
    // ...which revoked the newest one of the family too
    await assert.rejects(client.refreshTokenGrant(pub, r2.refresh_token),
                         (e) => e.error === 'invalid_grant');
    const intro = await client.tokenIntrospection(conf, r2.access_token);
    assert.equal(intro.active, false);
  });
});

describe('confidential clients and service accounts', () => {
  test('client_credentials gives a service account a token for a resource', async () => {
    const t = await client.clientCredentialsGrant(svc, { resource: 'http://127.0.0.1:8001' });
    assert.equal(t.refresh_token, undefined);
    const { payload } = await verifyAccess(t.access_token, 'http://127.0.0.1:8001');
    assert.equal(payload.sub, 'service-account-svc');
    assert.deepEqual(payload.roles, ['service']);
    assert.deepEqual(payload.realm_access.roles, ['service']);
  });

  test('client_secret_post works as well as Basic', async () => {
    const r = await fetch(idp.url + '/token', {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'svc',
                                  client_secret: SECRETS.svc, resource: 'http://127.0.0.1:8001' }),
    });
    assert.equal(r.status, 200);
    assert.ok((await r.json()).access_token);
  });

  test('a resource the client may not ask for is invalid_target', async () => {
    await assert.rejects(client.clientCredentialsGrant(svc, { resource: 'http://127.0.0.1:8003' }),
                         (e) => e.error === 'invalid_target');
  });

  test('a wrong client secret and an unknown client are invalid_client', async () => {
    const wrong = await fetch(idp.url + '/token', {
      method: 'POST', headers: { Authorization: 'Basic ' + btoa('svc:not-the-secret') },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error, 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate'), /^Basic/);
    const unknown = await fetch(idp.url + '/token', {
      method: 'POST', headers: { Authorization: 'Basic ' + btoa('nobody:x') },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    assert.equal(unknown.status, 401);
    assert.equal((await unknown.json()).error, 'invalid_client');
  });

  test('a public client cannot use client_credentials', async () => {
    const r = await fetch(idp.url + '/token', {
      method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'rp-public' }),
    });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error, 'unauthorized_client');
  });

  test('a confidential client gets its default audience', async () => {
    const { tokens } = await codeFlow(conf, { username: 'erin', redirect: 'https://rp.example.test/cb' });
    const { payload } = await verifyAccess(tokens.access_token, 'http://127.0.0.1:8001');
    assert.equal(payload.sub, 'erin');
  });
});

describe('introspection, revocation and logout', () => {
  test('introspection tells an active token from a revoked one', async () => {
    const { tokens } = await codeFlow(pub, { username: 'erin' });
    const active = await client.tokenIntrospection(conf, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.sub, 'erin');
    assert.equal(active.client_id, 'rp-public');
    assert.equal(active.token_type, 'Bearer');
    await client.tokenRevocation(pub, tokens.access_token);
    assert.equal((await client.tokenIntrospection(conf, tokens.access_token)).active, false);
    // userinfo refuses a revoked token
    await assert.rejects(client.fetchUserInfo(pub, tokens.access_token, 'erin'));
    // revoking the refresh token ends refreshing
    await client.tokenRevocation(pub, tokens.refresh_token);
    await assert.rejects(client.refreshTokenGrant(pub, tokens.refresh_token),
                         (e) => e.error === 'invalid_grant');
    assert.equal((await client.tokenIntrospection(conf, 'garbage')).active, false);
  });

  test('introspection needs an authenticated client', async () => {
    const r = await fetch(idp.url + '/introspect', { method: 'POST', body: new URLSearchParams({ token: 'x' }) });
    assert.equal(r.status, 401);
  });

  test('logout ends the session and returns to a registered address only', async () => {
    const { tokens, jar } = await codeFlow(pub, { username: 'erin' });
    const bad = client.buildEndSessionUrl(pub, { id_token_hint: tokens.id_token,
                                                 post_logout_redirect_uri: 'http://evil.example/' });
    const refused = await fetch(bad, { redirect: 'manual', headers: { Cookie: jar.header() } });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('location'), null);
    const good = client.buildEndSessionUrl(pub, { id_token_hint: tokens.id_token, state: 'bye',
                                                  post_logout_redirect_uri: 'http://127.0.0.1:9/after-logout' });
    const r = await fetch(good, { redirect: 'manual', headers: { Cookie: jar.header() } });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), 'http://127.0.0.1:9/after-logout?state=bye');
    jar.take(r);
    // the old session cookie no longer signs anyone in
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(pub, {
      redirect_uri: CB, scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const again = await openAuthorize(url, jar);
    assert.equal(again.status, 200);
    assert.match(again.html, /Sign in/);
    // and the tokens of the session's grants are revoked
    assert.equal((await client.tokenIntrospection(conf, tokens.access_token)).active, false);
  });
});

describe('logout without proof', () => {
  test('a logout request without an ID token of the user asks the person first', async () => {
    const { tokens, jar } = await codeFlow(pub, { username: 'erin' });
    // what a foreign page could make the browser do: no id_token_hint
    const r = await fetch(idp.url + '/logout', { redirect: 'manual', headers: { Cookie: jar.header() } });
    jar.take(r);
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.match(html, /Sign out\?/);
    assert.equal((await client.tokenIntrospection(conf, tokens.access_token)).active, true);
    // a POST without the page's token is not enough either
    const forged = await fetch(idp.url + '/logout', {
      method: 'POST', redirect: 'manual', headers: { Cookie: jar.header() },
      body: new URLSearchParams({ csrf: 'guess', confirm: 'yes' }),
    });
    assert.equal(forged.status, 200);
    assert.equal((await client.tokenIntrospection(conf, tokens.access_token)).active, true);
    // the person presses the button
    const csrf = html.match(/name="csrf" value="([^"]+)"/)[1];
    const done = await fetch(idp.url + '/logout', {
      method: 'POST', redirect: 'manual', headers: { Cookie: jar.header() },
      body: new URLSearchParams({ csrf, confirm: 'yes' }),
    });
    assert.equal(done.status, 200);
    assert.match(await done.text(), /Signed out/);
    assert.equal((await client.tokenIntrospection(conf, tokens.access_token)).active, false);
  });
});

describe('dynamic client registration (RFC 7591)', () => {
  test('an MCP client registers and signs a user in', async () => {
    const r = await fetch(idp.url + '/register', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'An MCP client', redirect_uris: ['http://127.0.0.1/callback'],
                             token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
    });
    assert.equal(r.status, 201);
    const reg = await r.json();
    assert.ok(reg.client_id);
    assert.equal(reg.client_secret, undefined);
    const cfg = await client.discovery(new URL(idp.url), reg.client_id, undefined, client.None(), insecure);
    const { tokens } = await codeFlow(cfg, { username: 'erin', redirect: 'http://127.0.0.1:7777/callback' });
    assert.equal(tokens.claims().aud, reg.client_id);
  });

  test('a client that names no auth method is confidential (RFC 7591 default)', async () => {
    const r = await fetch(idp.url + '/register', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://app.example.test/cb'] }),
    });
    assert.equal(r.status, 201);
    const reg = await r.json();
    assert.equal(reg.token_endpoint_auth_method, 'client_secret_basic');
    assert.ok(reg.client_secret.length >= 40);
  });

  test('a registration with a bad redirect URI is refused', async () => {
    const r = await fetch(idp.url + '/register', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://evil.example/cb'] }),
    });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error, 'invalid_redirect_uri');
    const lookalike = await fetch(idp.url + '/register', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1.evil.example/cb'] }),
    });
    assert.equal(lookalike.status, 400);
  });
});
