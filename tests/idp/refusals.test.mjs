// refusals.test.mjs - every refusal the IdP owes: at /authorize (shown, or
// sent back to the client), at /token, at the login form (password,
// disabled user, throttling and lock, TOTP from oathtool and its replay).

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startIdp, login, openAuthorize, submitLogin, Jar, PW, oathtool, sleep } from './idp.mjs';

const insecure = { execute: [client.allowInsecureRequests] };
const CB = 'http://127.0.0.1:5555/cb';

let idp, pub, conf;

before(async () => {
  idp = await startIdp({ codeTtl: 5 });
  pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
  conf = await client.discovery(new URL(idp.url), 'rp-conf', undefined,
                                client.ClientSecretBasic('rp-conf-test-secret'), insecure);
});

after(async () => {
  await idp?.stop();
  idp?.cleanup();
});

async function authUrl(cfg = pub, extra = {}, { pkce = true } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const params = { redirect_uri: CB, scope: 'openid', state: 'st-1', ...extra };
  if (pkce) {
    params.code_challenge = await client.calculatePKCECodeChallenge(verifier);
    params.code_challenge_method = 'S256';
  }
  return { url: client.buildAuthorizationUrl(cfg, params), verifier };
}

// A raw /authorize URL, for requests openid-client would not build.
function rawAuthorize(params) {
  const u = new URL(idp.url + '/authorize');
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.href;
}

async function codeFor(username, cfg = pub, extra = {}) {
  const { url, verifier } = await authUrl(cfg, extra);
  const r = await login(idp.url, url, { username, password: PW[username] });
  assert.equal(r.status, 302, r.html);
  return { location: new URL(r.location), verifier, code: new URL(r.location).searchParams.get('code') };
}

async function tokenRequest(params) {
  const r = await fetch(idp.url + '/token', { method: 'POST', body: new URLSearchParams(params) });
  return { status: r.status, json: await r.json() };
}

describe('/authorize', () => {
  test('an unknown client is shown an error, not redirected', async () => {
    const r = await openAuthorize(rawAuthorize({ client_id: 'nobody', redirect_uri: CB, response_type: 'code' }));
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
    assert.match(r.html, /not registered/);
  });

  test('a wrong or missing redirect_uri is shown, not redirected', async () => {
    for (const redirect_uri of ['http://evil.example/cb', 'http://127.0.0.1:5555/cb/extra',
                                'https://rp.example.test/cb?x=1', undefined]) {
      const r = await openAuthorize(rawAuthorize({ client_id: 'rp-public', redirect_uri,
                                                   response_type: 'code', code_challenge: 'x'.repeat(43),
                                                   code_challenge_method: 'S256' }));
      assert.equal(r.status, 400, String(redirect_uri));
      assert.equal(r.location, null);
      assert.match(r.html, /redirect_uri/);
    }
  });

  test('a parameter given twice is refused', async () => {
    const r = await openAuthorize(rawAuthorize({ client_id: 'rp-public', redirect_uri: CB, response_type: 'code' })
                                  + '&client_id=rp-conf');
    assert.equal(r.status, 400);
    assert.match(r.html, /twice/);
  });

  function redirectError(r) {
    assert.equal(r.status, 302);
    const u = new URL(r.location);
    assert.equal(u.origin + u.pathname, CB);
    assert.equal(u.searchParams.get('iss'), idp.url); // RFC 9207
    assert.equal(u.searchParams.get('state'), 'st-1');
    return u.searchParams.get('error');
  }

  test('missing PKCE is refused for a public client', async () => {
    const { url } = await authUrl(pub, {}, { pkce: false });
    assert.equal(redirectError(await openAuthorize(url)), 'invalid_request');
  });

  test('missing PKCE is refused for a confidential client too (required by default)', async () => {
    const { url } = await authUrl(conf, { redirect_uri: 'https://rp.example.test/cb' }, { pkce: false });
    const r = await openAuthorize(url);
    assert.equal(r.status, 302);
    assert.equal(new URL(r.location).searchParams.get('error'), 'invalid_request');
  });

  test('the plain PKCE method is refused', async () => {
    const r = await openAuthorize(rawAuthorize({ client_id: 'rp-public', redirect_uri: CB, response_type: 'code',
                                                 state: 'st-1', code_challenge: 'a'.repeat(43),
                                                 code_challenge_method: 'plain' }));
    assert.equal(redirectError(r), 'invalid_request');
    assert.match(new URL(r.location).searchParams.get('error_description'), /S256/);
  });

  test('a response type other than code is refused', async () => {
    const r = await openAuthorize(rawAuthorize({ client_id: 'rp-public', redirect_uri: CB, response_type: 'token',
                                                 state: 'st-1' }));
    assert.equal(redirectError(r), 'unsupported_response_type');
  });

  test('prompt=none without a session is login_required', async () => {
    const { url } = await authUrl(pub, { prompt: 'none' });
    assert.equal(redirectError(await openAuthorize(url)), 'login_required');
  });

  test('a form without the CSRF cookie or with a wrong token is refused', async () => {
    const { url } = await authUrl();
    const page = await openAuthorize(url);
    const wrong = await submitLogin(idp.url, page, { username: 'erin', password: PW.erin }, { csrf: 'forged' });
    assert.equal(wrong.status, 403);
    const noCookie = await submitLogin(idp.url, { ...page, jar: new Jar() }, { username: 'erin', password: PW.erin });
    assert.equal(noCookie.status, 403);
    assert.equal(noCookie.location, null);
  });
});

describe('/token', () => {
  test('a code works once; a replay fails and revokes what the first use issued', async () => {
    const { location, verifier } = await codeFor('erin');
    const tokens = await client.authorizationCodeGrant(pub, location, { pkceCodeVerifier: verifier, expectedState: 'st-1' });
    await assert.rejects(
      client.authorizationCodeGrant(pub, location, { pkceCodeVerifier: verifier, expectedState: 'st-1' }),
      (e) => e.error === 'invalid_grant');
    assert.equal((await client.tokenIntrospection(conf, tokens.access_token)).active, false);
    await assert.rejects(client.refreshTokenGrant(pub, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  });

  test('a wrong code_verifier is invalid_grant', async () => {
    const { location } = await codeFor('erin');
    await assert.rejects(
      client.authorizationCodeGrant(pub, location, { pkceCodeVerifier: client.randomPKCECodeVerifier(),
                                                     expectedState: 'st-1' }),
      (e) => e.error === 'invalid_grant');
  });

  test('a redirect_uri other than the authorization request\'s is invalid_grant', async () => {
    const { code, verifier } = await codeFor('erin');
    const r = await tokenRequest({ grant_type: 'authorization_code', client_id: 'rp-public', code,
                                   code_verifier: verifier, redirect_uri: 'http://127.0.0.1:6666/cb' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_grant');
  });

  test('another client cannot redeem a code', async () => {
    const { code, verifier } = await codeFor('erin');
    const r = await fetch(idp.url + '/token', {
      method: 'POST', headers: { Authorization: 'Basic ' + btoa('rp-conf:rp-conf-test-secret') },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CB }),
    });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error, 'invalid_grant');
  });

  test('an expired code is invalid_grant', async () => {
    const { location, verifier } = await codeFor('erin');
    await sleep(6500); // code_ttl is 5 s here
    await assert.rejects(
      client.authorizationCodeGrant(pub, location, { pkceCodeVerifier: verifier, expectedState: 'st-1' }),
      (e) => e.error === 'invalid_grant');
  });

  test('an unknown grant type is unsupported_grant_type', async () => {
    const r = await tokenRequest({ grant_type: 'password', client_id: 'rp-public', username: 'erin', password: PW.erin });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'unsupported_grant_type');
  });
});

describe('the login form', () => {
  test('a bad password is refused without saying which part was wrong', async () => {
    const { url } = await authUrl();
    const r = await login(idp.url, url, { username: 'erin', password: 'not-her-password' });
    assert.equal(r.status, 401);
    assert.equal(r.location, null);
    assert.match(r.html, /username, password or code is not right/);
    assert.match(idp.log(), /login failed for user 'erin' from 127\.0\.0\.1: bad password/);
    assert.doesNotMatch(idp.log(), /not-her-password/);
  });

  test('an unknown user gets the same answer', async () => {
    const { url } = await authUrl();
    const r = await login(idp.url, url, { username: 'mallory', password: 'whatever-password' });
    assert.equal(r.status, 401);
    assert.match(r.html, /username, password or code is not right/);
  });

  test('a disabled user cannot sign in, even with the right password', async () => {
    const { url } = await authUrl();
    const r = await login(idp.url, url, { username: 'carol', password: PW.carol });
    assert.equal(r.status, 401);
    assert.match(idp.log(), /user 'carol'.*user disabled/);
  });

  test('repeated failures lock the user for a while, the right password included', async () => {
    const { url } = await authUrl();
    for (let i = 0; i < 3; i++) {
      const r = await login(idp.url, url, { username: 'dave', password: 'wrong-' + i });
      assert.equal(r.status, 401);
    }
    const locked = await login(idp.url, url, { username: 'dave', password: PW.dave });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.retryAfter) >= 1);
    assert.match(locked.html, /Too many failed attempts/);
    assert.match(idp.log(), /login locked for user 'dave'/);
    // other users are not locked out by dave's lock
    assert.equal((await login(idp.url, url, { username: 'erin', password: PW.erin })).status, 302);
    // one more failure after the lock doubles it; then it runs out
    await sleep(2200);
    const ok = await login(idp.url, url, { username: 'dave', password: PW.dave });
    assert.equal(ok.status, 302);
  });

  test('TOTP: required when enrolled, an oathtool code works once', async () => {
    const { url } = await authUrl();
    const none = await login(idp.url, url, { username: 'bob', password: PW.bob });
    assert.equal(none.status, 401);
    const current = oathtool();
    const wrongCode = await login(idp.url, url, { username: 'bob', password: PW.bob,
                                                  otp: current === '000000' ? '111111' : '000000' });
    assert.equal(wrongCode.status, 401);
    assert.match(idp.log(), /user 'bob'.*bad or replayed one-time code/);
    const code = oathtool();
    const ok = await login(idp.url, url, { username: 'bob', password: PW.bob, otp: code });
    assert.equal(ok.status, 302, ok.html);
    // the same code again, within its window: refused (no replay)
    const replay = await login(idp.url, url + '&prompt=login', { username: 'bob', password: PW.bob, otp: code });
    assert.equal(replay.status, 401);
  });

  test('TOTP: the amr claim names the second factor', async () => {
    // the next step's code (one step of drift is allowed)
    const { url, verifier } = await authUrl(pub, { nonce: 'n-1' });
    const ok = await login(idp.url, url, { username: 'bob', password: PW.bob, otp: oathtool(undefined, 30) });
    assert.equal(ok.status, 302, ok.html);
    const tokens = await client.authorizationCodeGrant(pub, new URL(ok.location), {
      pkceCodeVerifier: verifier, expectedState: 'st-1', expectedNonce: 'n-1' });
    assert.deepEqual(tokens.claims().amr, ['pwd', 'otp']);
  });
});

describe('hardening', () => {
  test('malformed tokens get an answer, not a crash', async () => {
    for (const t of ['A=AA.e30.AAAA', 'AAAAA.e30.AAAA', 'eyJhbGciOiJSUzI1NiJ9.e30.A', 'a.b', '...']) {
      const u = await fetch(idp.url + '/userinfo', { headers: { Authorization: 'Bearer ' + t } });
      assert.equal(u.status, 401, t);
      const l = await fetch(idp.url + '/logout?id_token_hint=' + encodeURIComponent(t), { redirect: 'manual' });
      assert.equal(l.status, 400, t);
      const r = await fetch(idp.url + '/revoke', { method: 'POST',
        body: new URLSearchParams({ client_id: 'rp-public', token: t }) });
      assert.equal(r.status, 200, t); // RFC 7009: unknown tokens are fine
    }
    assert.equal((await fetch(idp.url + '/healthz')).status, 200);
  });

  test('a verifier for a code without a challenge is a downgrade: refused', async () => {
    const url = rawAuthorize({ client_id: 'rp-legacy', redirect_uri: 'https://legacy.example.test/cb',
                               response_type: 'code', scope: 'openid', state: 'st-1' });
    const r = await login(idp.url, url, { username: 'erin', password: PW.erin });
    assert.equal(r.status, 302, r.html);
    const code = new URL(r.location).searchParams.get('code');
    const t = await fetch(idp.url + '/token', {
      method: 'POST', headers: { Authorization: 'Basic ' + btoa('rp-legacy:rp-legacy-test-secret') },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: 'x'.repeat(43),
                                  redirect_uri: 'https://legacy.example.test/cb' }),
    });
    assert.equal(t.status, 400);
    assert.equal((await t.json()).error, 'invalid_grant');
  });

  test('no scope is fine', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const url = rawAuthorize({ client_id: 'rp-public', redirect_uri: CB, response_type: 'code', state: 'st-1',
                               code_challenge: await client.calculatePKCECodeChallenge(verifier),
                               code_challenge_method: 'S256' });
    const r = await login(idp.url, url, { username: 'erin', password: PW.erin });
    assert.equal(r.status, 302, r.html);
    const t = await tokenRequest({ grant_type: 'authorization_code', client_id: 'rp-public', redirect_uri: CB,
                                   code: new URL(r.location).searchParams.get('code'), code_verifier: verifier });
    assert.equal(t.status, 200, JSON.stringify(t.json));
  });

  test('the session cookie goes to the IdP\'s endpoints only; no form-action in the CSP', async () => {
    const { url } = await authUrl();
    const page = await openAuthorize(url);
    assert.doesNotMatch(page.res.headers.get('content-security-policy'), /form-action/);
    const r = await submitLogin(idp.url, page, { username: 'erin', password: PW.erin });
    assert.equal(r.status, 302);
    const session = r.setCookies.filter((c) => c.startsWith('foshub_idp_session='));
    assert.deepEqual(session.map((c) => c.match(/Path=([^;]*)/)[1]).sort(), ['/authorize', '/logout']);
    for (const c of session) assert.match(c, /HttpOnly/);
  });

  test('a code whose session ended gives nothing', async () => {
    const { url, verifier } = await authUrl();
    const page = await openAuthorize(url);
    const r = await submitLogin(idp.url, page, { username: 'erin', password: PW.erin });
    // sign out, confirmed, before the client redeems its code
    const confirm = await fetch(idp.url + '/logout', { headers: { Cookie: r.jar.header() } });
    r.jar.take(confirm);
    const csrf = (await confirm.text()).match(/name="csrf" value="([^"]+)"/)[1];
    const out = await fetch(idp.url + '/logout', { method: 'POST', headers: { Cookie: r.jar.header() },
                                                   body: new URLSearchParams({ csrf }) });
    assert.equal(out.status, 200);
    const t = await tokenRequest({ grant_type: 'authorization_code', client_id: 'rp-public', redirect_uri: CB,
                                   code: new URL(r.location).searchParams.get('code'), code_verifier: verifier });
    assert.equal(t.status, 400);
    assert.equal(t.json.error, 'invalid_grant');
  });

  test('an access token is not an id_token_hint', async () => {
    const { location, verifier } = await codeFor('erin');
    const tokens = await client.authorizationCodeGrant(pub, location, { pkceCodeVerifier: verifier, expectedState: 'st-1' });
    const r = await fetch(idp.url + '/logout?id_token_hint=' + tokens.access_token, { redirect: 'manual' });
    assert.equal(r.status, 400);
  });

  test('a username cannot forge log lines', async () => {
    const { url } = await authUrl();
    await login(idp.url, url, { username: "x\nAUDIT emergency access: 'breakglass' \u001b[2J", password: 'whatever-1' });
    assert.match(idp.log(), /login failed for user 'x\\x0aAUDIT emergency access/);
    assert.doesNotMatch(idp.log(), /\nAUDIT emergency access: 'breakglass' \\x1b/);
  });

  test('a self-registered client: only allowed resources, no silent sign-in, errors shown', async () => {
    const reg = await (await fetch(idp.url + '/register', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Totally Legit', redirect_uris: ['https://attacker.example/cb'],
                             token_endpoint_auth_method: 'client_secret_basic' }),
    })).json();
    const cfg = await client.discovery(new URL(idp.url), reg.client_id, undefined,
                                       client.ClientSecretBasic(reg.client_secret), insecure);
    const base = { redirect_uri: 'https://attacker.example/cb', state: 'st-1' };
    // a resource outside registration_audiences: shown, not redirected
    const far = await openAuthorize((await authUrl(cfg, { ...base, resource: 'https://bank.example' })).url);
    assert.equal(far.status, 400);
    assert.equal(far.location, null);
    // a bad response type: shown too (no open redirect)
    const bad = await openAuthorize(rawAuthorize({ client_id: reg.client_id, redirect_uri: base.redirect_uri,
                                                   response_type: 'x', state: 'st-1' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.location, null);
    // a signed-in user is asked to sign in again, warned
    const { url } = await authUrl();
    const signed = await login(idp.url, url, { username: 'erin', password: PW.erin });
    assert.equal(signed.status, 302);
    const again = await openAuthorize((await authUrl(cfg, { ...base, resource: 'http://127.0.0.1:8001' })).url,
                                      signed.jar);
    assert.equal(again.status, 200);
    assert.match(again.html, /registered itself: its name is not verified/);
    // and it may not introspect others' tokens
    const intro = await fetch(idp.url + '/introspect', {
      method: 'POST', headers: { Authorization: 'Basic ' + btoa(`${reg.client_id}:${reg.client_secret}`) },
      body: new URLSearchParams({ token: 'x' }),
    });
    assert.equal(intro.status, 401);
  });
});
