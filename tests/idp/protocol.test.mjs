// protocol.test.mjs - OpenID Connect details the IdP owes: max_age forces
// a new sign-in and auth_time stays right; prompt=none alone; request
// objects refused by name; refresh keeps the scope whole (no cut word
// becomes another); the break-glass account cannot be locked by anyone
// but raises an alert; the admin commands refuse names they must not
// write.
//
// TEST FIXTURES: every secret here is made up for these tests.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startIdp, login, openAuthorize, run, PW, sleep } from './idp.mjs';

const insecure = { execute: [client.allowInsecureRequests] };
const CB = 'http://127.0.0.1:5555/cb';

async function authUrl(cfg, extra = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: CB, scope: 'openid', state: 'st-1',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { url, verifier };
}

function errorOf(r) {
  assert.equal(r.status, 302, r.html);
  const u = new URL(r.location);
  assert.equal(u.origin + u.pathname, CB);
  assert.equal(u.searchParams.get('state'), 'st-1');
  return u.searchParams.get('error');
}

describe('authorization requests', () => {
  let idp, pub;
  before(async () => {
    idp = await startIdp();
    pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  test('max_age: a sign-in older than it is asked again; auth_time is the sign-in\'s', async () => {
    const first = await authUrl(pub);
    const r = await login(idp.url, first.url, { username: 'alice', password: PW.alice });
    assert.equal(r.status, 302, r.html);
    const t1 = await client.authorizationCodeGrant(pub, new URL(r.location),
                                                   { pkceCodeVerifier: first.verifier, expectedState: 'st-1' });
    const signedIn = t1.claims().auth_time;
    assert.ok(signedIn);
    // max_age=0: always sign in again, the session notwithstanding
    const zero = await openAuthorize((await authUrl(pub, { max_age: '0' })).url, r.jar);
    assert.equal(zero.status, 200);
    assert.match(zero.html, /Sign in/);
    assert.equal(errorOf(await openAuthorize((await authUrl(pub, { max_age: '0', prompt: 'none' })).url, r.jar)),
                 'login_required');
    // a sign-in younger than max_age: the session answers, same auth_time
    const young = await authUrl(pub, { max_age: '3600' });
    const s = await openAuthorize(young.url, r.jar);
    assert.equal(s.status, 302);
    const t2 = await client.authorizationCodeGrant(pub, new URL(s.location),
                                                   { pkceCodeVerifier: young.verifier, expectedState: 'st-1',
                                                     maxAge: 3600 });
    assert.equal(t2.claims().auth_time, signedIn);
    // older than max_age: sign in again, and the new time is in the token
    await sleep(2100);
    const old = await authUrl(pub, { max_age: '1' });
    const page = await openAuthorize(old.url, r.jar);
    assert.equal(page.status, 200);
    const again = await login(idp.url, old.url, { username: 'alice', password: PW.alice }, r.jar);
    assert.equal(again.status, 302, again.html);
    const t3 = await client.authorizationCodeGrant(pub, new URL(again.location),
                                                   { pkceCodeVerifier: old.verifier, expectedState: 'st-1',
                                                     maxAge: 60 });
    assert.ok(t3.claims().auth_time > signedIn);
    assert.ok(jose.decodeJwt(t3.access_token).auth_time > signedIn);
  });

  test('max_age that is not a number is invalid_request', async () => {
    assert.equal(errorOf(await openAuthorize((await authUrl(pub, { max_age: 'soon' })).url)), 'invalid_request');
    assert.equal(errorOf(await openAuthorize((await authUrl(pub, { max_age: '-1' })).url)), 'invalid_request');
  });

  test('prompt=none with another value is invalid_request', async () => {
    const r = await openAuthorize((await authUrl(pub, { prompt: 'none login' })).url);
    assert.equal(errorOf(r), 'invalid_request');
    assert.match(new URL(r.location).searchParams.get('error_description'), /prompt=none/);
  });

  test('request and request_uri are refused by name (OpenID Connect Core §6)', async () => {
    assert.equal(errorOf(await openAuthorize((await authUrl(pub, { request: 'eyJhbGciOiJub25lIn0.e30.' })).url)),
                 'request_not_supported');
    assert.equal(errorOf(await openAuthorize((await authUrl(pub, { request_uri: 'https://rp.example/r/1' })).url)),
                 'request_uri_not_supported');
  });
});

describe('refresh keeps the scope whole', () => {
  let idp, pub;
  before(async () => {
    idp = await startIdp();
    pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  async function tokensFor(scope) {
    const { url, verifier } = await authUrl(pub, { scope });
    const r = await login(idp.url, url, { username: 'erin', password: PW.erin });
    assert.equal(r.status, 302, r.html);
    return client.authorizationCodeGrant(pub, new URL(r.location), { pkceCodeVerifier: verifier,
                                                                      expectedState: 'st-1' });
  }

  test('the longest scope comes back from a refresh as it was', async () => {
    const scope = 'openid ' + 'a'.repeat(1006) + ' admin_read'; // 1024 bytes, the limit
    const t = await tokensFor(scope);
    assert.equal(jose.decodeJwt(t.access_token).scope, scope);
    const r = await client.refreshTokenGrant(pub, t.refresh_token);
    assert.equal(jose.decodeJwt(r.access_token).scope, scope);
    // and once more, from the rotated token's record
    const r2 = await client.refreshTokenGrant(pub, r.refresh_token);
    assert.equal(jose.decodeJwt(r2.access_token).scope, scope);
  });

  test('a long word is compared whole when narrowing', async () => {
    const t = await tokensFor('openid ' + 'b'.repeat(127));
    await assert.rejects(client.refreshTokenGrant(pub, t.refresh_token, { scope: 'openid ' + 'b'.repeat(200) }),
                         (e) => e.error === 'invalid_scope');
    const ok = await client.refreshTokenGrant(pub, t.refresh_token, { scope: 'openid' });
    assert.equal(jose.decodeJwt(ok.access_token).scope, 'openid');
  });
});

describe('the break-glass account', () => {
  test('wrong passwords do not lock it by name; they raise an alert', async () => {
    // locks long enough to outlast a slow machine
    const idp = await startIdp({ lockSeconds: 60, maxLockSeconds: 60 });
    try {
      const pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
      const { url } = await authUrl(pub);
      for (let i = 0; i < 4; i++) {
        const r = await login(idp.url, url, { username: 'breakglass', password: 'wrong-' + i });
        assert.equal(r.status, 401, `attempt ${i}`);
      }
      const ok = await login(idp.url, url, { username: 'breakglass', password: PW.breakglass });
      assert.equal(ok.status, 302, ok.html);
      assert.match(idp.log(), /AUDIT emergency account 'breakglass': 3 failed sign-ins in a row/);
      const alerts = await (await fetch(idp.url + '/progress/alerts')).json();
      const items = alerts.items ?? alerts;
      const ev = items.find((e) => /Repeated failed sign-ins/.test(e.summary));
      assert.ok(ev, JSON.stringify(alerts));
      assert.equal(ev.payload.username, 'breakglass');
      assert.equal(ev.payload.failures, 3);
      // a user who is not the emergency account is locked as before
      for (let i = 0; i < 3; i++)
        assert.equal((await login(idp.url, url, { username: 'dave', password: 'wrong-' + i })).status, 401);
      assert.equal((await login(idp.url, url, { username: 'dave', password: PW.dave })).status, 429);
    } finally {
      await idp.stop();
      idp.cleanup();
    }
  });

  test('the address it is tried from is locked as any other', async () => {
    const idp = await startIdp({ maxAddressFailures: 2, lockSeconds: 60, maxLockSeconds: 60 });
    try {
      const pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
      const { url } = await authUrl(pub);
      for (let i = 0; i < 2; i++)
        assert.equal((await login(idp.url, url, { username: 'breakglass', password: 'wrong-' + i })).status, 401);
      const locked = await login(idp.url, url, { username: 'breakglass', password: PW.breakglass });
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.retryAfter) >= 1);
    } finally {
      await idp.stop();
      idp.cleanup();
    }
  });
});

describe('names the admin commands refuse', () => {
  let idp;
  before(async () => { idp = await startIdp(); });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  test('an empty username, a service account\'s subject, a second document', () => {
    const before = readFileSync(idp.config, 'utf8');
    const empty = run(['idp', 'add-user', '--config', idp.config, ''], 'long-enough-pw\n');
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /must not be empty/);
    const sa = run(['idp', 'add-user', '--config', idp.config, 'service-account-svc'], 'long-enough-pw\n');
    assert.equal(sa.status, 1);
    assert.match(sa.stderr, /service-account-/);
    assert.equal(readFileSync(idp.config, 'utf8'), before);
    const two = idp.dir + '/two.yaml';
    writeFileSync(two, before + '---\nusers: []\n');
    const r = run(['idp', 'add-user', '--config', two, 'zed'], 'long-enough-pw\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /two\.yaml:\d+.*second YAML document/);
    assert.equal(readFileSync(two, 'utf8'), before + '---\nusers: []\n');
  });
});
