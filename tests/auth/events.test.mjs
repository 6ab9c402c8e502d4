// events.test.mjs - events between hubs with identity checks on: a real
// IdP with service accounts for the hubs, dev-hub delivering a deployment
// to ops-hub with its own service account's token, and ops-hub's inbox
// refusing an identity it does not know (docs/events.md, "Identity").
//
// TEST FIXTURES: the secrets below are made-up values for this test only.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, startIdp } from '../idp/idp.mjs';
import { startHub } from './hubs.mjs';

const SECRETS = { 'dev-svc': 'dev-svc-test-secret', intruder: 'intruder-test-secret' };

const dir = mkdtempSync(join(tmpdir(), 'foshub-events-auth-'));
const extra = Object.entries(SECRETS).map(([id, s]) =>
  `  - client_id: ${id}\n    secret_hash: "${hashPassword(s)}"\n    roles: [service]\n`).join('');
const idp = await startIdp({ extra });
const stops = [];
after(async () => {
  for (const s of stops.reverse()) await s();
  await idp.stop();
  idp.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function token(client, audience) {
  const r = await fetch(idp.url + '/token', {
    method: 'POST',
    headers: { Authorization: 'Basic ' + Buffer.from(`${client}:${SECRETS[client]}`).toString('base64'),
               'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: audience }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()).access_token;
}

async function call(hub, tok, method, path, body) {
  const r = await fetch(hub.url + path, {
    method,
    headers: { ...(tok ? { Authorization: 'Bearer ' + tok } : {}),
               ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

const FAST = '  retry_base: 50ms\n  retry_max: 500ms\n  poll: 50ms\n';

test('a hub delivers with its service account; the inbox refuses unknown identities', async () => {
  const opsConfig = join(dir, 'ops.yaml');
  writeFileSync(opsConfig, `events:\n${FAST}  senders:\n    - hub: dev-hub\n      client_id: dev-svc\n`);
  const ops = await startHub({ hub: 'ops', db: 'sqlite:' + join(dir, 'ops.db'),
                               issuers: [idp.url], args: ['--config', opsConfig] });
  stops.push(ops.stop);
  const devConfig = join(dir, 'dev.yaml');
  writeFileSync(devConfig, `events:\n${FAST}  subscribers:\n    - hub: ops-hub\n` +
                `      url: ${ops.url}\n      types: [deployment_started]\n`);
  const secretFile = join(dir, 'dev-svc.secret');
  writeFileSync(secretFile, SECRETS['dev-svc'] + '\n', { mode: 0o600 });
  const dev = await startHub({ hub: 'dev', db: 'sqlite:' + join(dir, 'dev.db'), issuers: [idp.url],
                               args: ['--config', devConfig, '--auth-client-id', 'dev-svc',
                                      '--auth-client-secret-file', secretFile] });
  stops.push(dev.stop);

  // a deployment in dev-hub reaches ops-hub over an authenticated delivery
  const devTok = await token('dev-svc', dev.url);
  const opsTok = await token('dev-svc', ops.url);
  const d = await call(dev, devTok, 'POST', '/deployments',
                       { service: 'web', version: 'v9', deployed_by: 'ci' });
  assert.equal(d.status, 201, d.text);
  let changes = [];
  for (let i = 0; i < 600 && changes.length === 0; i++) {
    const r = await call(ops, opsTok, 'GET', '/changes?source=deployment');
    assert.equal(r.status, 200, r.text);
    changes = r.json.items;
    if (!changes.length) await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(changes.length, 1, 'the deployment did not arrive:\n' + dev.log() + ops.log());
  assert.equal(changes[0].deployment, d.json.id);
  const st = await call(ops, opsTok, 'GET', '/events/status');
  assert.equal(st.json.inbox.applied, 1);
  assert.deepEqual(st.json.senders, [{ hub: 'dev-hub', client_id: 'dev-svc' }]);

  const ev = { id: 'forged-1', type: 'deployment_started', source: 'dev-hub',
               time: '2026-01-01T00:00:00Z', payload: { deployment: 'x', service: 'web' } };
  // no token: 401
  assert.equal((await call(ops, null, 'POST', '/events/inbox', ev)).status, 401);
  // a valid token of a service account ops-hub does not know as a hub: 403
  const intruder = await token('intruder', ops.url);
  const r = await call(ops, intruder, 'POST', '/events/inbox', ev);
  assert.equal(r.status, 403, r.text);
  assert.match(r.json.detail, /intruder/);
  // the known hub cannot speak for another one
  const r2 = await call(ops, opsTok, 'POST', '/events/inbox',
                        { events: [{ ...ev, id: 'forged-2', source: 'fin-hub' }] });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.json.results[0].status, 'rejected');
  const after2 = await call(ops, opsTok, 'GET', '/changes?source=deployment');
  assert.equal(after2.json.items.length, 1);
});
