// limits.test.mjs - what unauthenticated callers can make the IdP keep or
// spend: the sizes /authorize and /register take, registrations per
// address, the purge of expired rows (at start and while running), client
// authentication throttled like logins, the bound on argon2id checks at
// once, and the login throttle under concurrent guesses.
//
// TEST FIXTURES: every secret here is made up for these tests.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as client from 'openid-client';
import { startIdp, login, openAuthorize, submitLogin, PW, SECRETS, sleep } from './idp.mjs';

const insecure = { execute: [client.allowInsecureRequests] };
const CB = 'http://127.0.0.1:5555/cb';

// TEST FIXTURE: an argon2id hash (t=12, about a second to check) of
// 'slow-test-secret', for a client whose checks overlap for sure.
const SLOW_HASH = '$argon2id$v=19$m=65536,t=12,p=1$Zml4dHVyZS1zYWx0LTE2Yg$OAd7NRUMBDuyzTGgpgnUcfV9HFtOvU5Imo+LIY+cxSo';

// A statement on the IdP's database, through the sqlite3 shell.
function sql(idp, query) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', idp.db.slice('sqlite:'.length), query],
                      { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

// Wait for a log line (bounded): the IdP says when it has done something.
async function logged(idp, re, from = 0) {
  for (let i = 0; i < 600; i++) {
    if (re.test(idp.log().slice(from))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`no log line ${re} in:\n${idp.log().slice(from)}`);
}

function rawAuthorize(idp, params) {
  const u = new URL(idp.url + '/authorize');
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.href;
}

const pkce = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };

function tokenRequest(idp, params, basic) {
  return fetch(idp.url + '/token', {
    method: 'POST', body: new URLSearchParams(params),
    headers: basic ? { Authorization: 'Basic ' + btoa(basic) } : {},
  });
}

describe('/authorize keeps bounded requests', () => {
  let idp;
  before(async () => { idp = await startIdp(); });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  const base = { client_id: 'rp-public', redirect_uri: CB, response_type: 'code', scope: 'openid', ...pkce };

  test('an over-long state is invalid_request, and is not sent back', async () => {
    const r = await openAuthorize(rawAuthorize(idp, { ...base, state: 's'.repeat(1025) }));
    assert.equal(r.status, 302, r.html);
    const u = new URL(r.location);
    assert.equal(u.origin + u.pathname, CB);
    assert.equal(u.searchParams.get('error'), 'invalid_request');
    assert.match(u.searchParams.get('error_description'), /state is longer than 1024/);
    assert.equal(u.searchParams.get('state'), null);
    assert.ok(r.location.length < 4096);
    // the longest state taken is fine
    assert.equal((await openAuthorize(rawAuthorize(idp, { ...base, state: 's'.repeat(1024) }))).status, 200);
  });

  test('over-long nonce, login_hint, scope and resource are invalid_request', async () => {
    for (const [k, v] of [['nonce', 'n'.repeat(513)], ['login_hint', 'h'.repeat(256)],
                          ['scope', 'openid ' + 'x'.repeat(1020)],
                          ['resource', 'http://127.0.0.1:8001/' + 'r'.repeat(2048)]]) {
      const r = await openAuthorize(rawAuthorize(idp, { ...base, state: 'st', [k]: v }));
      assert.equal(r.status, 302, k);
      const u = new URL(r.location);
      assert.equal(u.searchParams.get('error'), 'invalid_request', k);
      assert.match(u.searchParams.get('error_description'), new RegExp(k), k);
      assert.equal(u.searchParams.get('state'), 'st', k);
    }
  });

  test('an over-long redirect_uri is shown, not redirected to', async () => {
    const r = await openAuthorize(rawAuthorize(idp, { ...base, redirect_uri: 'http://127.0.0.1/' + 'c'.repeat(2100) }));
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
  });

  test('a redirect_uri with a line break or userinfo never matches a loopback one', async () => {
    for (const redirect_uri of ['http://127.0.0.1:5555/cb\r\nSet-Cookie: x=y', 'http://127.0.0.1:5555@evil.example/cb',
                                'http://127.0.0.1:99999999/cb']) {
      const r = await openAuthorize(rawAuthorize(idp, { ...base, redirect_uri }));
      assert.equal(r.status, 400, redirect_uri);
      assert.equal(r.location, null);
    }
  });

  test('only the parameters the IdP reads are kept with a pending login', async () => {
    const before = Number(sql(idp, 'SELECT count(*) FROM idp_requests'));
    for (let i = 0; i < 20; i++) {
      const r = await openAuthorize(rawAuthorize(idp, { ...base, state: 's'.repeat(1024), nonce: 'n'.repeat(512),
                                                        junk: 'j'.repeat(30000), display: 'd'.repeat(10000) }));
      assert.equal(r.status, 200);
    }
    assert.equal(Number(sql(idp, 'SELECT count(*) FROM idp_requests')), before + 20);
    const longest = Number(sql(idp, 'SELECT max(length(params)) FROM idp_requests'));
    assert.ok(longest < 2000, `a pending request keeps ${longest} bytes`);
    assert.equal(sql(idp, "SELECT count(*) FROM idp_requests WHERE params LIKE '%junk%'"), '0');
  });
});

describe('/register is bounded', () => {
  let idp;
  before(async () => {
    idp = await startIdp({ lockSeconds: 60, maxLockSeconds: 60, extra: 'max_registrations_per_address: 3\n' });
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  const register = (body, raw) => fetch(idp.url + '/register', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: raw ?? JSON.stringify(body),
  });

  test('an over-long client name, a large body, a bad URI are refused and not counted', async () => {
    const name = await register({ client_name: 'n'.repeat(257), redirect_uris: ['https://a.example/cb'] });
    assert.equal(name.status, 400);
    assert.equal((await name.json()).error, 'invalid_client_metadata');
    const big = await register(null, JSON.stringify({ redirect_uris: ['https://a.example/cb'], x: 'y'.repeat(70000) }));
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error, 'invalid_client_metadata');
    const crlf = await register({ redirect_uris: ['https://a.example/cb\r\nX: y'] });
    assert.equal(crlf.status, 400);
    assert.equal((await crlf.json()).error, 'invalid_redirect_uri');
    const many = await register({ redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`) });
    assert.equal(many.status, 400);
    assert.equal(sql(idp, 'SELECT count(*) FROM idp_clients'), '0');
  });

  test('registrations per address are limited: then 429 with Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await register({ client_name: 'c' + i, redirect_uris: ['https://a.example/cb'] });
      assert.equal(r.status, 201);
    }
    const held = await register({ client_name: 'c3', redirect_uris: ['https://a.example/cb'] });
    assert.equal(held.status, 429);
    assert.ok(Number(held.headers.get('retry-after')) >= 1);
    assert.equal(sql(idp, 'SELECT count(*) FROM idp_clients'), '3');
    assert.match(idp.log(), /registrations from 127\.0\.0\.1 are held/);
  });
});

describe('the purge of expired rows', () => {
  let idp, pub;
  before(async () => {
    idp = await startIdp({ extra: 'purge_interval: 1\n' });
    pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  test('a running IdP deletes what expired, and keeps what is live', async () => {
    // a pending request, a session with its code and tokens
    assert.equal((await openAuthorize(rawAuthorize(idp, { client_id: 'rp-public', redirect_uri: CB,
                                                           response_type: 'code', ...pkce }))).status, 200);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(pub, { redirect_uri: CB, scope: 'openid', state: 's',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const r = await login(idp.url, url, { username: 'erin', password: PW.erin });
    assert.equal(r.status, 302);
    const tokens = await client.authorizationCodeGrant(pub, new URL(r.location), { pkceCodeVerifier: verifier,
                                                                                  expectedState: 's' });
    assert.ok(tokens.refresh_token);
    // time passes for some of it (the test moves the clock of the rows)
    sql(idp, "BEGIN; INSERT INTO idp_requests VALUES ('old-1', 'c', 'rp-public', '{}', 1);" +
             "INSERT INTO idp_sessions VALUES ('old-s', 'erin', 1, '[]', 1);" +
             "INSERT INTO idp_throttle VALUES ('user:old-guess', 2, 1, 0);" +
             "INSERT INTO idp_families (family, client_id, created) VALUES ('old-f', 'rp-public', 1);" +
             "INSERT INTO idp_refresh (token_hash, family, client_id, username, scope, auth_time, amr, expires, " +
             "created) VALUES ('old-t', 'old-f', 'rp-public', 'erin', '', 1, '[]', 2, 1); COMMIT;");
    const from = idp.log().length;
    await logged(idp, /purged [1-9]\d* expired rows/, from);
    assert.equal(sql(idp, "SELECT count(*) FROM idp_requests WHERE id = 'old-1'"), '0');
    assert.equal(sql(idp, "SELECT count(*) FROM idp_sessions WHERE id_hash = 'old-s'"), '0');
    assert.equal(sql(idp, "SELECT count(*) FROM idp_throttle WHERE key = 'user:old-guess'"), '0');
    assert.equal(sql(idp, "SELECT count(*) FROM idp_refresh WHERE token_hash = 'old-t'"), '0');
    assert.equal(sql(idp, "SELECT count(*) FROM idp_families WHERE family = 'old-f'"), '0');
    // the live ones are still there and still work
    assert.equal(sql(idp, 'SELECT count(*) FROM idp_requests'), '1');
    const again = await openAuthorize(url, r.jar);
    assert.equal(again.status, 302); // the session
    const refreshed = await client.refreshTokenGrant(pub, tokens.refresh_token);
    assert.ok(refreshed.access_token);
  }, { timeout: 60000 });

  test('a restart purges at once', async () => {
    await idp.stop();
    const dir = idp.dir, port = idp.port;
    // an IdP that was down for long: everything has expired
    const db = { db: 'sqlite:' + dir + '/idp.db' };
    sql(db, 'UPDATE idp_requests SET expires = 1; UPDATE idp_sessions SET expires = 1;');
    idp = await startIdp({ dir, port, keepConfig: true });
    await logged(idp, /purged [1-9]\d* expired rows/);
    assert.equal(sql(idp, 'SELECT count(*) FROM idp_requests'), '0');
    assert.equal(sql(idp, 'SELECT count(*) FROM idp_sessions'), '0');
  }, { timeout: 60000 });
});

describe('client authentication is throttled', () => {
  let idp;
  before(async () => {
    idp = await startIdp({ maxAddressFailures: 5, lockSeconds: 30, maxLockSeconds: 60 });
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  const cc = (id, secret) => tokenRequest(idp, { grant_type: 'client_credentials' }, `${id}:${secret}`);

  test('wrong secrets lock the client: then 429 with Retry-After, the right secret included', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await tokenRequest(idp, { grant_type: 'authorization_code', code: 'x', redirect_uri: CB },
                                   'rp-legacy:wrong-' + i);
      assert.equal(r.status, 401);
      assert.equal((await r.json()).error, 'invalid_client');
    }
    const locked = await tokenRequest(idp, { grant_type: 'authorization_code', code: 'x', redirect_uri: CB },
                                      'rp-legacy:' + SECRETS['rp-legacy']);
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    assert.match((await locked.json()).error_description, /try again in \d+ seconds/);
    // introspection and revocation use the same lock
    const intro = await fetch(idp.url + '/introspect', { method: 'POST',
      headers: { Authorization: 'Basic ' + btoa('rp-legacy:' + SECRETS['rp-legacy']) },
      body: new URLSearchParams({ token: 'x' }) });
    assert.equal(intro.status, 429);
    assert.match(idp.log(), /client 'rp-legacy' locked/);
    // other clients are not locked by it
    assert.equal((await cc('svc', SECRETS.svc)).status, 200);
  });

  test('failures from one address lock it for every client', async () => {
    // three failures so far from this address; two more make five
    assert.equal((await cc('svc', 'wrong')).status, 401);
    assert.equal((await cc('hub-svc', 'wrong')).status, 401);
    const r = await cc('hub-svc', SECRETS['hub-svc']);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    // what needs no secret still answers
    assert.equal((await fetch(idp.url + '/jwks')).status, 200);
  });
});

describe('argon2id checks at once are bounded', () => {
  let idp;
  before(async () => {
    // a service account more (the file ends with that list), then a key
    idp = await startIdp({ extra: `  - client_id: slow
    secret_hash: "${SLOW_HASH}"
    roles: [service]
max_password_checks: 1
` });
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  test('a check that finds every slot taken gets 503 with Retry-After, not a queue', async () => {
    // one after the other while the first is checked (about a second):
    // each on a connection of its own, taken by a free server thread
    const rs = await Promise.all([0, 1, 2].map((i) => sleep(i * 150).then(() =>
      tokenRequest(idp, { grant_type: 'client_credentials' }, 'slow:slow-test-secret'))));
    const statuses = rs.map((r) => r.status).sort();
    assert.ok(statuses.includes(200), statuses.join());
    assert.ok(statuses.includes(503), statuses.join());
    for (const r of rs.filter((x) => x.status === 503)) {
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal((await r.json()).error, 'temporarily_unavailable');
    }
    // a check that was not made is not a failure: no lock
    assert.equal((await tokenRequest(idp, { grant_type: 'client_credentials' }, 'slow:slow-test-secret')).status, 200);
  });
});

describe('the login throttle under concurrent guesses', () => {
  let idp, pub;
  before(async () => {
    idp = await startIdp({ lockSeconds: 60, maxLockSeconds: 120, extra: 'max_password_checks: 4\n' });
    pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  test('forty wrong passwords at once: no more than max_login_failures are checked', async () => {
    const url = client.buildAuthorizationUrl(pub, { redirect_uri: CB, scope: 'openid', state: 's', ...pkce });
    const pages = [];
    for (let i = 0; i < 40; i++) pages.push(await openAuthorize(url));
    const rs = await Promise.all(pages.map((p, i) =>
      submitLogin(idp.url, p, { username: 'dave', password: 'wrong-' + i })));
    const checked = (idp.log().match(/login failed for user 'dave'/g) ?? []).length;
    assert.ok(checked <= 3, `${checked} guesses were checked`);
    assert.equal(rs.filter((r) => r.status === 401).length, checked);
    for (const r of rs) assert.ok([401, 429, 503].includes(r.status), String(r.status));
    // locked now, the right password included
    const right = await login(idp.url, url, { username: 'dave', password: PW.dave });
    assert.equal(right.status, 429);
  }, { timeout: 120000 });
});
