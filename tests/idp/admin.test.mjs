// admin.test.mjs - running the IdP: the admin commands editing its file,
// SIGHUP reloads (a bad file refused with file:line while the running
// configuration stays), key rotation (published before it signs; old
// tokens still verify), restarts keeping sessions and tokens, the
// emergency account, and the Keycloak realm export.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync, appendFileSync } from 'node:fs';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startIdp, login, openAuthorize, run, PW, SECRETS, sleep, TOTP_SECRET } from './idp.mjs';
import { spawnSync } from 'node:child_process';

const insecure = { execute: [client.allowInsecureRequests] };
const CB = 'http://127.0.0.1:5555/cb';

async function codeFlow(idp, cfg, username, password, extra = {}, jar) {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(cfg, {
    redirect_uri: CB, scope: 'openid offline_access', state: 's',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const r = await login(idp.url, url, { username, password, ...extra }, jar);
  if (r.status !== 302) return { status: r.status, html: r.html };
  const tokens = await client.authorizationCodeGrant(cfg, new URL(r.location),
                                                     { pkceCodeVerifier: verifier, expectedState: 's' });
  return { status: 302, tokens, jar: r.jar };
}

describe('admin commands and reload', () => {
  let idp, pub;
  before(async () => {
    idp = await startIdp();
    pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  test('a bad file on SIGHUP is refused with file:line; the running one stays', async () => {
    const good = readFileSync(idp.config, 'utf8');
    writeFileSync(idp.config, good.replace('max_login_failures: 3', 'max_login_failures: lots'));
    const out = await idp.hup(/reload|refused|error/i);
    const line = good.split('\n').findIndex((l) => l.startsWith('max_login_failures')) + 1;
    assert.match(out, new RegExp(`idp\\.yaml:${line}`));
    // still serving, with the old users
    assert.equal((await codeFlow(idp, pub, 'erin', PW.erin)).status, 302);
    writeFileSync(idp.config, good);
  });

  test('add-user edits the file in place; SIGHUP loads the new user', async () => {
    const before = readFileSync(idp.config, 'utf8');
    const r = run(['idp', 'add-user', '--config', idp.config, '--name', 'Frank "the tank" Test',
                   '--email', 'frank@example.test', '--role', 'developer', '--role', 'ops', 'frank'],
                  'frank-test-password\n');
    assert.equal(r.status, 0, r.stderr);
    const after = readFileSync(idp.config, 'utf8');
    // every line that was there is still there, in order
    const kept = before.split('\n').filter((l) => l !== '');
    let i = 0;
    for (const l of after.split('\n')) if (l === kept[i]) i++;
    assert.equal(i, kept.length, 'the edit kept the file');
    assert.ok(readdirSync(idp.dir).some((f) => /^idp\.yaml\..*\.bak$/.test(f)), 'a backup is kept');
    // not yet loaded
    assert.equal((await codeFlow(idp, pub, 'frank', 'frank-test-password')).status, 401);
    await idp.hup(/configuration|reload/i);
    const f = await codeFlow(idp, pub, 'frank', 'frank-test-password');
    assert.equal(f.status, 302);
    const claims = jose.decodeJwt(f.tokens.access_token);
    assert.deepEqual(claims.roles, ['developer', 'ops']);
    // the same name again is refused, and nothing changes
    const again = run(['idp', 'add-user', '--config', idp.config, 'frank'], 'another-password\n');
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already exists/);
    assert.equal(readFileSync(idp.config, 'utf8'), after);
  });

  test('totp-enroll prints an otpauth URI whose codes (oathtool) sign in', async () => {
    const r = run(['idp', 'totp-enroll', '--config', idp.config, '--no-qr', 'erin']);
    assert.equal(r.status, 0, r.stderr);
    const uri = new URL(r.stdout.trim().split('\n')[0]);
    assert.equal(uri.protocol, 'otpauth:');
    const secret = uri.searchParams.get('secret');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await idp.hup(/configuration|reload/i);
    assert.equal((await codeFlow(idp, pub, 'erin', PW.erin)).status, 401); // now needs the code
    const code = spawnSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).stdout.trim();
    assert.equal((await codeFlow(idp, pub, 'erin', PW.erin, { otp: code })).status, 302);
    // enrolling twice is refused
    const again = run(['idp', 'totp-enroll', '--config', idp.config, '--no-qr', 'erin']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already has a totp_secret/);
  });

  test('add-client prints a secret once, stores only its hash', async () => {
    const r = run(['idp', 'add-client', '--config', idp.config, '--service-account', '--role', 'reporter',
                   '--audience', 'http://127.0.0.1:8003', 'reports']);
    assert.equal(r.status, 0, r.stderr);
    const secret = r.stdout.trim();
    assert.ok(secret.length >= 40);
    assert.ok(!readFileSync(idp.config, 'utf8').includes(secret));
    await idp.hup(/configuration|reload/i);
    const svc = await client.discovery(new URL(idp.url), 'reports', undefined, client.ClientSecretBasic(secret), insecure);
    const t = await client.clientCredentialsGrant(svc, { resource: 'http://127.0.0.1:8003' });
    assert.deepEqual(jose.decodeJwt(t.access_token).roles, ['reporter']);
  });

  test('the admin commands refuse bad input with a clear message', () => {
    const missing = run(['idp', 'add-user', '--config', idp.dir + '/nope.yaml', 'x'], 'long-enough-pw\n');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope\.yaml/);
    const short = run(['idp', 'add-user', '--config', idp.config, 'x'], 'short\n');
    assert.equal(short.status, 1);
    assert.match(short.stderr, /at least 8/);
    const noUser = run(['idp', 'totp-enroll', '--config', idp.config, '--no-qr', 'nobody']);
    assert.equal(noUser.status, 1);
    assert.match(noUser.stderr, /no user 'nobody'/);
  });

  test('export-keycloak-realm writes the same clients, roles and users, minus secrets', () => {
    const r = run(['idp', 'export-keycloak-realm', '--config', idp.config, '--realm', 'test']);
    assert.equal(r.status, 0, r.stderr);
    const realm = JSON.parse(r.stdout);
    assert.equal(realm.realm, 'test');
    const users = Object.fromEntries(realm.users.map((u) => [u.username, u]));
    assert.deepEqual(users.alice.realmRoles, ['admin', 'developer']);
    assert.equal(users.alice.email, 'alice@example.test');
    assert.deepEqual(users.bob.requiredActions, ['CONFIGURE_TOTP']);
    assert.equal(users.carol.enabled, false);
    assert.equal(users['service-account-svc'].serviceAccountClientId, 'svc');
    const clients = Object.fromEntries(realm.clients.map((c) => [c.clientId, c]));
    assert.equal(clients['rp-public'].publicClient, true);
    assert.deepEqual(clients['rp-public'].redirectUris, ['http://127.0.0.1/cb']);
    assert.equal(clients.svc.serviceAccountsEnabled, true);
    assert.equal(clients['rp-conf'].attributes['pkce.code.challenge.method'], 'S256');
    const roles = realm.roles.realm.map((x) => x.name).sort();
    for (const r2 of ['admin', 'developer', 'service']) assert.ok(roles.includes(r2));
    const text = r.stdout;
    for (const secret of ['argon2', TOTP_SECRET, 'password', 'secret_hash'])
      assert.ok(!text.includes(secret), `no ${secret} in the export`);
  });
});

describe('key rotation', () => {
  let idp, svc, conf;
  before(async () => {
    idp = await startIdp({ publishDelay: 4 });
    svc = await client.discovery(new URL(idp.url), 'svc', undefined, client.ClientSecretBasic(SECRETS.svc), insecure);
    conf = await client.discovery(new URL(idp.url), 'rp-conf', undefined,
                                  client.ClientSecretBasic(SECRETS['rp-conf']), insecure);
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  const token = async () => (await client.clientCredentialsGrant(svc, { resource: 'http://127.0.0.1:8001' })).access_token;
  const kids = async () => (await (await fetch(idp.url + '/jwks')).json()).keys.map((k) => k.kid);
  const verify = (t) => jose.jwtVerify(t, jose.createLocalJWKSet(jwksNow), { issuer: idp.url, typ: 'at+jwt' });
  let jwksNow;

  test('a new key is published before it signs, and old tokens keep verifying', async () => {
    const old = await token();
    const oldKid = jose.decodeProtectedHeader(old).kid;
    const before = await kids();
    const r = run(['idp', 'rotate-keys', '--config', idp.config]);
    assert.equal(r.status, 0, r.stderr);
    await idp.hup(/configuration|reload/i);
    const published = await kids();
    assert.equal(published.length, 4);
    for (const k of before) assert.ok(published.includes(k));
    // published now, signing later: tokens are still signed with the old key
    const meanwhile = await token();
    assert.equal(jose.decodeProtectedHeader(meanwhile).kid, oldKid);
    await sleep(4500);
    const fresh = await token();
    const newKid = jose.decodeProtectedHeader(fresh).kid;
    assert.notEqual(newKid, oldKid);
    assert.ok(published.includes(newKid));
    // the old key is still published, so its tokens verify
    jwksNow = await (await fetch(idp.url + '/jwks')).json();
    await verify(old);
    await verify(fresh);
    assert.equal((await client.tokenIntrospection(conf, old)).active, true);
    // the key files stay private
    for (const f of readdirSync(idp.dir + '/keys'))
      assert.equal(spawnSync('stat', ['-c', '%a', idp.dir + '/keys/' + f], { encoding: 'utf8' }).stdout.trim(), '600');
  });
});

describe('restart and emergency access', () => {
  let idp, pub, conf;
  before(async () => {
    idp = await startIdp();
    pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
    conf = await client.discovery(new URL(idp.url), 'rp-conf', undefined,
                                  client.ClientSecretBasic(SECRETS['rp-conf']), insecure);
  });
  after(async () => { await idp?.stop(); idp?.cleanup(); });

  test('sessions, refresh tokens and revocations survive a restart', async () => {
    const a = await codeFlow(idp, pub, 'alice', PW.alice);
    const b = await codeFlow(idp, pub, 'erin', PW.erin);
    await client.tokenRevocation(pub, b.tokens.access_token);
    await idp.stop();
    idp = await startIdp({ dir: idp.dir, port: idp.port, keepConfig: true });
    // the refresh token still works, once
    const r = await client.refreshTokenGrant(pub, a.tokens.refresh_token);
    assert.ok(r.access_token);
    await assert.rejects(client.refreshTokenGrant(pub, a.tokens.refresh_token), (e) => e.error === 'invalid_grant');
    // the revocation was kept
    assert.equal((await client.tokenIntrospection(conf, b.tokens.access_token)).active, false);
    // the browser session too: no login page
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(pub, {
      redirect_uri: CB, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256' });
    const again = await openAuthorize(url, b.jar);
    assert.equal(again.status, 302);
  });

  test('with every user disabled, the emergency account still signs in, and raises an alert', async () => {
    const text = readFileSync(idp.config, 'utf8').replace('users_disabled: false', 'users_disabled: true');
    writeFileSync(idp.config, text);
    await idp.hup(/configuration|reload/i);
    assert.equal((await codeFlow(idp, pub, 'alice', PW.alice)).status, 401);
    const bg = await codeFlow(idp, pub, 'breakglass', PW.breakglass);
    assert.equal(bg.status, 302);
    assert.deepEqual(jose.decodeJwt(bg.tokens.access_token).roles, ['admin']);
    assert.match(idp.log(), /AUDIT emergency access: 'breakglass' signed in from 127\.0\.0\.1/);
    const alerts = await (await fetch(idp.url + '/progress/alerts')).json();
    const items = alerts.items ?? alerts;
    const ev = items.find((e) => e.event_type === 'alert_raised');
    assert.ok(ev, JSON.stringify(alerts));
    assert.equal(ev.payload.username, 'breakglass');
  });
});

describe('registration off', () => {
  test('dynamic registration is refused unless enabled', async () => {
    const idp = await startIdp({ registration: false });
    try {
      const r = await fetch(idp.url + '/register', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'] }),
      });
      assert.equal(r.status, 403);
      assert.equal((await r.json()).error, 'access_denied');
      const meta = await (await fetch(idp.url + '/.well-known/openid-configuration')).json();
      assert.equal(meta.registration_endpoint, undefined);
    } finally {
      await idp.stop();
      idp.cleanup();
    }
  });
});
