// idp.mjs - start a real NetKingdom IdP (`foshub serve idp`) for the tests,
// with a configuration written into a temporary directory, and drive its
// login page the way a browser would (GET the form, POST it back with the
// CSRF cookie).
//
// TEST FIXTURES: every password, client secret and TOTP secret here is a
// made-up value for these tests only.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.FOSHUB_BIN || join(ROOT, 'build', 'foshub');

// A base32 TOTP secret (test fixture) and the passwords of the users.
export const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
export const PW = {
  alice: 'alice-test-password',
  bob: 'bob-test-password',
  carol: 'carol-test-password',
  dave: 'dave-test-password',
  erin: 'erin-test-password',
  nora: 'nora-test-password',
  breakglass: 'breakglass-test-password',
};
export const SECRETS = { 'rp-conf': 'rp-conf-test-secret', svc: 'svc-test-secret',
                         'hub-svc': 'hub-svc-test-secret', 'rp-legacy': 'rp-legacy-test-secret' };

export function run(args, input) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', cwd: ROOT, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function hashPassword(pw) {
  const r = run(['idp', 'hash-password'], pw + '\n');
  if (r.status !== 0) throw new Error('hash-password failed: ' + r.stderr);
  return r.stdout.trim();
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let hashes = null;
function fixtureHashes() {
  if (!hashes) {
    hashes = {};
    for (const [k, v] of Object.entries({ ...PW, ...SECRETS })) hashes[k] = hashPassword(v);
  }
  return hashes;
}

// The YAML of a test configuration; opts tweaks it.
export function configText(port, dir, opts = {}) {
  const h = fixtureHashes();
  const issuer = `http://127.0.0.1:${port}`;
  return `# TEST FIXTURE (made-up secrets)
issuer: "${issuer}"
keys_dir: "${join(dir, 'keys')}"
access_token_ttl: ${opts.accessTtl ?? 300}
code_ttl: ${opts.codeTtl ?? 60}
key_publish_delay: ${opts.publishDelay ?? 0}
max_login_failures: ${opts.maxLoginFailures ?? 3}
max_address_failures: ${opts.maxAddressFailures ?? 1000}
lock_seconds: ${opts.lockSeconds ?? 2}
max_lock_seconds: ${opts.maxLockSeconds ?? 8}
users_disabled: ${opts.usersDisabled ? 'true' : 'false'}
dynamic_registration: ${opts.registration === false ? 'false' : 'true'}
registration_audiences: ["http://127.0.0.1:*"]
users:
  - username: alice
    password_hash: "${h.alice}"
    name: Alice Test
    email: alice@example.test
    roles: [admin, developer]
    groups: [platform]
  - username: bob
    password_hash: "${h.bob}"
    totp_secret: "${TOTP_SECRET}"
    roles: [developer]
  - username: carol
    password_hash: "${h.carol}"
    roles: [developer]
    disabled: true
  - username: dave
    password_hash: "${h.dave}"
    roles: [viewer]
  - username: erin
    password_hash: "${h.erin}"
    roles: [viewer]
  - username: nora
    password_hash: "${h.nora}"
    email: nora@example.test
emergency_access:
  username: breakglass
  password_hash: "${h.breakglass}"
  roles: [admin]
clients:
  - client_id: rp-public
    name: Test public client
    public: true
    redirect_uris: ["http://127.0.0.1/cb"]
    post_logout_redirect_uris: ["http://127.0.0.1:9/after-logout"]
  - client_id: rp-conf
    name: Test confidential client
    secret_hash: "${h['rp-conf']}"
    redirect_uris: ["https://rp.example.test/cb"]
    default_audience: "http://127.0.0.1:8001"
  - client_id: rp-legacy
    name: A client that cannot do PKCE
    secret_hash: "${h['rp-legacy']}"
    require_pkce: false
    redirect_uris: ["https://legacy.example.test/cb"]
service_accounts:
  - client_id: svc
    secret_hash: "${h.svc}"
    roles: [service]
    audiences: ["http://127.0.0.1:8001"]
  - client_id: hub-svc
    secret_hash: "${h['hub-svc']}"
    roles: [service]
${opts.extra ?? ''}`;
}

// Start an IdP on a fresh directory (or the given one, to restart);
// resolves to { url, port, dir, config, db, stop, hup, log }.
export async function startIdp(opts = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'foshub-idp-'));
  const port = opts.port ?? await freePort();
  const config = join(dir, 'idp.yaml');
  if (!opts.keepConfig) writeFileSync(config, configText(port, dir, opts));
  const db = 'sqlite:' + join(dir, 'idp.db');
  const p = spawn(BIN, ['serve', 'idp', '--config', config, '--db', db,
                        '--listen', `127.0.0.1:${port}`, '--log-level', 'info'],
                  { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'],
                    env: { ...process.env, FOSHUB_AUTH: opts.auth ? 'on' : 'off' } });
  let log = '';
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (d) => { log += d; });
  await new Promise((resolve, reject) => {
    const check = () => {
      if (/listening on http/.test(log)) { p.stderr.off('data', check); resolve(); }
    };
    p.stderr.on('data', check);
    p.once('exit', (code) => reject(new Error(`idp did not start (${code}):\n${log}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url, port, dir, config, db, proc: p,
    log: () => log,
    hup: async (expect) => {
      const before = log.length;
      p.kill('SIGHUP');
      for (let i = 0; i < 100 && !expect.test(log.slice(before)); i++)
        await new Promise((r) => setTimeout(r, 50));
      return log.slice(before);
    },
    stop: () => new Promise((res, rej) => {
      if (p.exitCode !== null) { res(); return; }
      p.once('exit', (code, sig) => {
        if (code !== 0) rej(new Error(`idp exited ${code} ${sig}:\n${log}`));
        else if (/AddressSanitizer|runtime error:|LeakSanitizer/.test(log))
          rej(new Error('sanitizer report:\n' + log));
        else res();
      });
      p.kill('SIGTERM');
    }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// A tiny cookie jar: name -> value, from Set-Cookie headers.
export class Jar {
  constructor() { this.c = new Map(); }
  take(res) {
    for (const h of res.headers.getSetCookie()) {
      const [pair, ...attrs] = h.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (attrs.some((a) => /max-age=0\b/i.test(a.trim())) || value === '') this.c.delete(name);
      else this.c.set(name, value);
    }
  }
  header() { return [...this.c].map(([k, v]) => `${k}=${v}`).join('; '); }
}

export function hidden(html, name) {
  const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  return m ? m[1] : null;
}

// GET the authorization URL; either a redirect (a live session, or an
// error for the client) or the login page.
export async function openAuthorize(authUrl, jar = new Jar()) {
  const r = await fetch(authUrl, { redirect: 'manual', headers: { Cookie: jar.header() } });
  jar.take(r);
  return { status: r.status, location: r.headers.get('location'), html: await r.text(), jar, res: r };
}

// POST the login form of a page got with openAuthorize.
export async function submitLogin(idpUrl, page, fields, { csrf } = {}) {
  const form = new URLSearchParams({
    request_id: hidden(page.html, 'request_id'),
    csrf: csrf ?? hidden(page.html, 'csrf'),
    ...fields,
  });
  const r = await fetch(idpUrl + '/authorize', {
    method: 'POST', redirect: 'manual', body: form,
    headers: { Cookie: page.jar.header(), 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  page.jar.take(r);
  return { status: r.status, location: r.headers.get('location'), html: await r.text(),
           retryAfter: r.headers.get('retry-after'), jar: page.jar,
           setCookies: r.headers.getSetCookie() };
}

// The whole login: open the page, sign in; resolves to the redirect.
export async function login(idpUrl, authUrl, fields, jar) {
  const page = await openAuthorize(authUrl, jar);
  if (page.status !== 200) return page;
  return submitLogin(idpUrl, page, fields);
}

export function oathtool(secret = TOTP_SECRET, offsetSeconds = 0) {
  const args = ['--totp', '-b', secret];
  if (offsetSeconds) {
    const t = new Date(Date.now() + offsetSeconds * 1000);
    args.push('--now', t.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
  }
  const r = spawnSync('oathtool', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('oathtool failed: ' + r.stderr);
  return r.stdout.trim();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
