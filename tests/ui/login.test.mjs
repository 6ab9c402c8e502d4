// login.test.mjs - signing in to a hub's page through the IdP, in a real
// browser and over plain HTTP: the real IdP (`foshub serve idp`, a test
// configuration with the confidential client hub-portal) and ops-hub with
// identity checks and the page login on. /now sends a browser without a
// session to the IdP's login page and back; the page says who is signed
// in and stays live; signing out ends the session (and the IdP's), so the
// page asks for a login again. A user without the read role gets 403; a
// forged or garbage session cookie is refused; ?next= never leaves the
// hub; a state that is not the browser's, a replayed code and an expired
// session are refused; an expired access token is refreshed. The session
// cookie is HttpOnly and SameSite=Lax, and authorizes no API write.
//
// TEST FIXTURES: the portal's secret and the users' passwords are made up.

import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, ROOT, launch, screenshot, startHub } from './ui.mjs';
import { Jar, PW, SECRETS, freePort, hashPassword, login as idpLogin, sleep, startIdp }
  from '../idp/idp.mjs';

const PORTAL_SECRET = 'hub-portal-test-secret';
const COOKIE = 'foshub_session_ops';
let browser, idp, hub, secretFile;

function portal(hubPort) {
  return `  - client_id: hub-portal
    name: Hub portal (test)
    secret_hash: "${hashPassword(PORTAL_SECRET)}"
    redirect_uris: ["http://127.0.0.1/auth/callback"]
    post_logout_redirect_uris: ["http://127.0.0.1:${hubPort}/auth/signed-out"]
    grant_types: [authorization_code, refresh_token]
`;
}

async function startPair(idpOpts = {}, hubArgs = [], hubPort = 0) {
  const port = hubPort || await freePort();
  const i = await startIdp({ clients: portal(port), ...idpOpts });
  secretFile = join(i.dir, 'portal.secret');
  writeFileSync(secretFile, PORTAL_SECRET + '\n', { mode: 0o600 });
  const h = await startHub('ops', {
    port, env: { FOSHUB_OPS_PROBES: 'off' },
    auth: ['--auth-issuer', i.url, '--login-client-id', 'hub-portal',
           '--login-client-secret-file', secretFile, ...hubArgs],
  });
  return { idp: i, hub: h };
}

// A service-account token for writing through the API (hub-svc: service).
function serviceToken(i, h) {
  const r = spawnSync(BIN, ['token', '--issuer', i.url, h.url], {
    encoding: 'utf8', cwd: ROOT,
    env: { ...process.env, FOSHUB_AUTH_CLIENT_ID: 'hub-svc',
           FOSHUB_AUTH_CLIENT_SECRET: SECRETS['hub-svc'] },
  });
  if (r.status !== 0) throw new Error('foshub token: ' + r.stderr);
  return r.stdout.trim();
}

// The whole login over plain HTTP: /auth/login?next=NEXT, the IdP's form,
// then the callback; resolves to { status, location, jar } of the callback.
async function httpLogin(h, username, next = '/now', jar = new Jar(), i = idp) {
  const start = await fetch(h.url + '/auth/login?next=' + encodeURIComponent(next),
                            { redirect: 'manual' });
  assert.equal(start.status, 302);
  jar.take(start);
  const at = await idpLogin(i.url, start.headers.get('location'),
                            { username, password: PW[username] });
  assert.equal(at.status, 302, at.html);
  const callback = at.location;
  const r = await fetch(callback, { redirect: 'manual', headers: { Cookie: jar.header() } });
  jar.take(r);
  return { status: r.status, location: r.headers.get('location'), jar, callback,
           loginCookie: start.headers.getSetCookie().join('; '), html: await r.text() };
}

async function page(h, jar, path = '/now', accept = 'text/html') {
  const r = await fetch(h.url + path, { redirect: 'manual',
                                        headers: { Cookie: jar.header(), Accept: accept } });
  return { status: r.status, location: r.headers.get('location'), text: await r.text(),
           headers: r.headers };
}

before(async () => {
  browser = await launch();
  ({ idp, hub } = await startPair());
});

after(async () => {
  await browser?.close();
  await hub?.stop();
  await idp?.stop();
  idp?.cleanup();
});

describe('in the browser', () => {
  test('/now leads through the IdP login and back; signed in, live; sign out asks again', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    const problems = [];
    p.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
    p.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
    try {
      await p.goto(hub.url + '/now');
      assert.ok(p.url().startsWith(idp.url + '/authorize'), p.url());
      await screenshot(p, 'login-idp-form');
      await p.fill('#username', 'alice');
      await p.fill('#password', PW.alice);
      await Promise.all([p.waitForURL(hub.url + '/now'), p.click('button[type="submit"]')]);
      await p.locator('#live-status[data-state="live"]').waitFor();
      assert.equal(await p.locator('#signed-in-as').textContent(), 'Alice Test');
      assert.equal(await p.locator('h1').textContent(), 'Now');

      // the session cookie: HttpOnly, SameSite=Lax, for the whole hub
      const cookie = (await ctx.cookies(hub.url)).find((c) => c.name === COOKIE);
      assert.ok(cookie, 'a session cookie');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');
      assert.equal(cookie.path, '/');
      assert.equal(await p.evaluate(() => document.cookie.includes('foshub_session')), false);

      // live: a change made through the API shows without a reload
      await p.evaluate(() => { window.__same = true; });
      const tok = serviceToken(idp, hub);
      const r = await fetch(hub.url + '/changes', {
        method: 'POST', headers: { Authorization: 'Bearer ' + tok, 'Content-Type': 'application/json' },
        body: JSON.stringify({ summary: 'login test change', changed_by: 'alice' }),
      });
      assert.equal(r.status, 201, await r.text());
      await p.locator('#changes', { hasText: 'login test change' }).waitFor();
      assert.equal(await p.evaluate(() => window.__same), true, 'updated without a reload');
      await screenshot(p, 'login-signed-in');

      // sign out: the hub's session and the IdP's end
      await Promise.all([p.waitForURL(hub.url + '/auth/signed-out', { timeout: 10000 }),
                         p.click('.who button[type="submit"]')]).catch((e) => {
        throw new Error(e.message + '\n' + problems.join('\n'));
      });
      assert.match(await p.locator('main').textContent(), /You are signed out/);
      await screenshot(p, 'login-signed-out');
      assert.equal((await ctx.cookies(hub.url)).find((c) => c.name === COOKIE), undefined);
      await p.goto(hub.url + '/now');
      assert.ok(p.url().startsWith(idp.url + '/authorize'), 'asked to log in again: ' + p.url());
      assert.equal(await p.locator('#password').count(), 1);
      assert.deepEqual(problems, []);
    } finally {
      await ctx.close();
    }
  });

  test('a user without the read role gets 403, and can sign out', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    try {
      await p.goto(hub.url + '/now');
      await p.fill('#username', 'nora');
      await p.fill('#password', PW.nora);
      const [resp] = await Promise.all([
        p.waitForResponse((x) => x.url() === hub.url + '/now'),
        p.click('button[type="submit"]'),
      ]);
      assert.equal(resp.status(), 403);
      assert.match(await p.locator('main').textContent(), /needs the read permission/);
      assert.match(await p.locator('.who').textContent(), /Signed in as nora/);
      await screenshot(p, 'login-forbidden');
      // the stream is refused too
      const cookie = (await ctx.cookies(hub.url)).find((c) => c.name === COOKIE);
      const s = await fetch(hub.url + '/now', { headers: { Accept: 'text/event-stream',
                                                           Cookie: `${COOKIE}=${cookie.value}` } });
      assert.equal(s.status, 403);
      assert.match(s.headers.get('www-authenticate'), /insufficient_scope/);
    } finally {
      await ctx.close();
    }
  });

  test('a garbage session cookie leads to the login, not the page', async () => {
    const ctx = await browser.newContext();
    await ctx.addCookies([{ name: COOKIE, value: 'A'.repeat(43), url: hub.url }]);
    const p = await ctx.newPage();
    try {
      await p.goto(hub.url + '/now');
      assert.ok(p.url().startsWith(idp.url + '/authorize'), p.url());
    } finally {
      await ctx.close();
    }
  });
});

describe('over HTTP', () => {
  test('a session reads pages and their stream, and nothing else (no API, no writes)', async () => {
    const r = await httpLogin(hub, 'alice');
    assert.equal(r.status, 303);
    assert.equal(r.location, '/now');
    assert.ok(r.jar.c.has(COOKIE));
    const now = await page(hub, r.jar);
    assert.equal(now.status, 200);
    assert.match(now.text, /Signed in as <strong id="signed-in-as">Alice Test<\/strong>/);
    assert.match(now.headers.get('content-security-policy'), new RegExp(`form-action 'self' ${idp.url}`));
    // the stream answers with the session
    const ac = new AbortController();
    const s = await fetch(hub.url + '/now', { headers: { Cookie: r.jar.header(), Accept: 'text/event-stream' },
                                             signal: ac.signal });
    assert.equal(s.status, 200);
    ac.abort();
    // the API does not take the cookie: not for reading, not for writing
    for (const [method, path] of [['GET', '/whoami'], ['GET', '/services'],
                                  ['POST', '/changes'], ['POST', '/mcp']]) {
      const x = await fetch(hub.url + path, {
        method, redirect: 'manual',
        headers: { Cookie: r.jar.header(), 'Content-Type': 'application/json', Accept: 'text/html' },
        body: method === 'POST' ? '{"summary": "csrf"}' : undefined,
      });
      assert.equal(x.status, 401, `${method} ${path}`);
      assert.match(x.headers.get('www-authenticate'), /^Bearer /);
    }
  });

  test('without a session: HTML is sent to the login, anything else is 401', async () => {
    const html = await page(hub, new Jar(), '/now?x=1');
    assert.equal(html.status, 302);
    assert.equal(html.location, '/auth/login?next=/now%3Fx%3D1');
    const json = await page(hub, new Jar(), '/now', 'application/json');
    assert.equal(json.status, 401);
    assert.match(json.headers.get('www-authenticate'), /resource_metadata=/);
    const stream = await page(hub, new Jar(), '/now', 'text/event-stream');
    assert.equal(stream.status, 401);
  });

  test('forged and garbage session cookies are refused', async () => {
    for (const value of ['A'.repeat(43), 'not-a-session', '../../etc/passwd', 'x'.repeat(400)]) {
      const jar = new Jar();
      jar.c.set(COOKIE, value);
      const r = await page(hub, jar);
      assert.equal(r.status, 302, value);
      assert.match(r.location, /^\/auth\/login\?next=/);
      const j = await page(hub, jar, '/now', 'application/json');
      assert.equal(j.status, 401, value);
      assert.match(j.headers.get('www-authenticate'), /invalid_token/);
    }
  });

  test('next never leaves the hub', async () => {
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example',
                        'evil.example', '/auth/logout', 'javascript:alert(1)']) {
      const r = await httpLogin(hub, 'alice', next);
      assert.equal(r.status, 303, next);
      assert.equal(r.location, '/now', next);
    }
    const ok = await httpLogin(hub, 'alice', '/now?x=1');
    assert.equal(ok.location, '/now?x=1');
  });

  test('a browser on another loopback name is sent to the hub\'s own before the login starts', async () => {
    // localhost:PORT for a hub whose URL is 127.0.0.1:PORT: the login
    // cookie must be set on the name the IdP will send the browser back to
    const u = new URL(hub.url);
    const r = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: u.port,
        path: '/auth/login?next=/now%3Fdomain%3Dx',
        headers: { Host: `localhost:${u.port}` } }, resolve);
      req.on('error', reject);
      req.end();
    });
    r.resume();
    assert.equal(r.statusCode, 302);
    assert.equal(r.headers.location,
                 `http://127.0.0.1:${u.port}/auth/login?next=%2Fnow%3Fdomain%3Dx`);
    assert.equal(r.headers['set-cookie'], undefined);
    // on the hub's own name the login goes to the IdP as before
    const own = await fetch(hub.url + '/auth/login?next=/now', { redirect: 'manual' });
    assert.equal(own.status, 302);
    assert.ok(own.headers.get('location').startsWith(idp.url), own.headers.get('location'));
    assert.match(own.headers.get('set-cookie'), /foshub_login_ops=/);
  });

  test('a state that is not the browser\'s, a replayed callback and a replayed code are refused', async () => {
    // the callback without the login cookie (someone else's login)
    const start = await fetch(hub.url + '/auth/login?next=/now', { redirect: 'manual' });
    const at = await idpLogin(idp.url, start.headers.get('location'),
                              { username: 'alice', password: PW.alice });
    let r = await fetch(at.location, { redirect: 'manual' });
    assert.equal(r.status, 400);
    const page = await r.text();
    assert.match(page, /not started in this browser/);
    // the page's own markup is markup, not escaped text
    assert.match(page, /<p class="error" role="alert">/);
    assert.doesNotMatch(page, /&quot;/);
    // a state that differs from the cookie's
    const jar = new Jar();
    jar.take(start);
    const forged = new URL(at.location);
    forged.searchParams.set('state', 'B'.repeat(43));
    r = await fetch(forged, { redirect: 'manual', headers: { Cookie: jar.header() } });
    assert.equal(r.status, 400);

    // a callback used once cannot be used again
    const done = await httpLogin(hub, 'alice');
    assert.equal(done.status, 303);
    const again = new Jar();
    again.c.set('foshub_login_ops', new URL(done.callback).searchParams.get('state'));
    r = await fetch(done.callback, { redirect: 'manual', headers: { Cookie: again.header() } });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /expired or was already used/);

    // a used code under a fresh login of the same browser: the IdP refuses it
    const fresh = await fetch(hub.url + '/auth/login?next=/now', { redirect: 'manual' });
    const fjar = new Jar();
    fjar.take(fresh);
    const state = new URL(fresh.headers.get('location')).searchParams.get('state');
    const replay = new URL(done.callback);
    replay.searchParams.set('state', state);
    r = await fetch(replay, { redirect: 'manual', headers: { Cookie: fjar.header() } });
    assert.equal(r.status, 502);
    assert.match(await r.text(), /could not be exchanged/);
    assert.equal(fjar.c.has(COOKIE), false);
  });

  test('an IdP error comes back as a page, and starts no session', async () => {
    const start = await fetch(hub.url + '/auth/login', { redirect: 'manual' });
    const jar = new Jar();
    jar.take(start);
    const state = new URL(start.headers.get('location')).searchParams.get('state');
    const r = await fetch(`${hub.url}/auth/callback?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state=${state}`,
                          { redirect: 'manual', headers: { Cookie: jar.header() } });
    assert.equal(r.status, 403);
    const text = await r.text();
    assert.match(text, /access_denied: &lt;b&gt;no&lt;\/b&gt;/);
    assert.equal(r.headers.getSetCookie().some((c) => c.startsWith(COOKIE)), false);
  });

  test('logout from another origin is refused; from the page it ends the session', async () => {
    const r = await httpLogin(hub, 'alice');
    let x = await fetch(hub.url + '/auth/logout', { method: 'POST', redirect: 'manual',
                                                    headers: { Cookie: r.jar.header(), Origin: 'https://evil.example' } });
    assert.equal(x.status, 403);
    x = await fetch(hub.url + '/auth/logout', { method: 'POST', redirect: 'manual',
                                                headers: { Cookie: r.jar.header(), 'Sec-Fetch-Site': 'same-site' } });
    assert.equal(x.status, 403, 'another port of the same host is another origin');
    assert.equal((await page(hub, r.jar)).status, 200, 'still signed in');
    x = await fetch(hub.url + '/auth/logout', { method: 'POST', redirect: 'manual',
                                                headers: { Cookie: r.jar.header(), Origin: hub.url } });
    assert.equal(x.status, 303);
    assert.ok(x.headers.get('location').startsWith(idp.url + '/logout?'), x.headers.get('location'));
    assert.match(x.headers.get('location'), /id_token_hint=/);
    const old = new Jar();
    old.c.set(COOKIE, r.jar.c.get(COOKIE));
    const after = await page(hub, old);
    assert.equal(after.status, 302, 'the old cookie is no session any more');
  });
});

describe('token lifetimes', () => {
  // access tokens of 30 s (the IdP's least), 1 s of clock skew; ops-hub
  // signs in through hub-portal (refresh tokens), fin-hub through a
  // client without the refresh_token grant
  let short, fin;
  before(async () => {
    const port = await freePort();
    short = await startPair({ accessTtl: 30, clients: portal(port) + `  - client_id: portal-norefresh
    name: Hub portal without refresh (test)
    secret_hash: "${hashPassword(PORTAL_SECRET)}"
    redirect_uris: ["http://127.0.0.1/auth/callback"]
    grant_types: [authorization_code]
` }, ['--auth-clock-skew', '1'], port);
    fin = await startHub('fin', {
      auth: ['--auth-issuer', short.idp.url, '--login-client-id', 'portal-norefresh',
             '--login-client-secret-file', secretFile, '--auth-clock-skew', '1'],
    });
  });
  after(async () => {
    await fin?.stop();
    await short?.hub.stop();
    await short?.idp.stop();
    short?.idp.cleanup();
  });

  test('an expired access token is refreshed; without a refresh token the session ends with it', async () => {
    const a = await httpLogin(short.hub, 'alice', '/now', new Jar(), short.idp);
    assert.equal(a.status, 303);
    const b = await httpLogin(fin, 'alice', '/runway', new Jar(), short.idp);
    assert.equal(b.status, 303, b.html);
    assert.equal((await page(short.hub, a.jar)).status, 200);
    assert.equal((await page(fin, b.jar, '/runway')).status, 200);
    await sleep(32000);
    // ops-hub: the session's access token has expired and is refreshed
    const p = await page(short.hub, a.jar);
    assert.equal(p.status, 200);
    assert.match(p.text, /Signed in as/);
    assert.equal((await page(short.hub, a.jar)).status, 200, 'and the new one works');
    // fin-hub: nothing to refresh with; the session has ended
    const gone = await page(fin, b.jar, '/runway');
    assert.equal(gone.status, 302);
    assert.equal(gone.location, '/auth/login?next=/runway');
  });
});
