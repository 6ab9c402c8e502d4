// glewlwyd.test.mjs - a provider foshub did not write: a real Glewlwyd
// (Debian package) as a second trusted issuer. Its tokens are accepted with
// their roles mapped (Glewlwyd writes them as a comma-separated string),
// and refused by a hub that does not trust it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { startIdp } from '../idp/idp.mjs';
import { startHub, get } from './hubs.mjs';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'glewlwyd', 'glewlwyd.sh');
let gw, gwDir, dir, idp, hub, stranger;

before(async () => {
  gwDir = mkdtempSync(join(tmpdir(), 'foshub-gw-'));
  gw = JSON.parse(execFileSync(SCRIPT, ['start', gwDir], { encoding: 'utf8' }).trim().split('\n').pop());
  idp = await startIdp();
  dir = mkdtempSync(join(tmpdir(), 'foshub-auth-gw-'));
  // trusts foshub's IdP and Glewlwyd
  hub = await startHub({ db: 'sqlite:' + join(dir, 'dev.db'), issuers: [idp.url, gw.issuer] });
  // trusts foshub's IdP only
  stranger = await startHub({ db: 'sqlite:' + join(dir, 'dev2.db'), issuers: [idp.url] });
});

after(async () => {
  await hub?.stop();
  await stranger?.stop();
  await idp?.stop();
  idp?.cleanup();
  if (gwDir) {
    try { execFileSync(SCRIPT, ['stop', gwDir]); } catch { /* already stopped */ }
    rmSync(gwDir, { recursive: true, force: true });
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const tokenFor = (aud) => execFileSync(SCRIPT, ['token', gwDir, aud], { encoding: 'utf8' }).trim();

test('a Glewlwyd token is accepted by a hub that trusts Glewlwyd, roles mapped', async () => {
  const token = tokenFor(hub.url);
  const claims = jose.decodeJwt(token);
  assert.equal(claims.iss, gw.issuer);
  assert.equal(claims.aud, hub.url);
  const r = await get(hub.url, token);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.iss, gw.issuer);
  assert.equal(r.json.sub, claims.sub);
  assert.equal(r.json.preferred_username, 'gwuser');
  assert.deepEqual(r.json.roles, ['developer', 'reviewer']);
  assert.equal(r.json.permission, 'write');
  // and it writes, as a developer may
  const w = await get(hub.url, token, '/domains', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'From Glewlwyd' }),
  });
  assert.equal(w.status, 201, w.text);
});

test('the same kind of token is refused where Glewlwyd is not trusted', async () => {
  const r = await get(stranger.url, tokenFor(stranger.url));
  assert.equal(r.status, 401);
  assert.match(r.json.detail, /issuer '.*' is not trusted/);
});

test('a Glewlwyd token for another hub is refused', async () => {
  const r = await get(hub.url, tokenFor(stranger.url));
  assert.equal(r.status, 401);
  assert.match(r.json.detail, /not for this hub/);
});
