// up.test.mjs - `foshub up` (what `make run` runs) with identity checks
// on: the IdP beside the hubs, every hub trusting it; a service-account
// token from `foshub token` opens dev-hub, ops-hub and fin-hub, no token
// is refused, and `up --no-auth` turns the checks off.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, configText, SECRETS } from '../idp/idp.mjs';
import { get } from './hubs.mjs';

const dirs = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

// Four free consecutive ports.
async function freeBase() {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const ok = await Promise.all([0, 1, 2, 3].map((i) => new Promise((res) => {
      const s = createServer();
      s.once('error', () => res(false));
      s.listen(base + i, '127.0.0.1', () => s.close(() => res(true)));
    })));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free ports');
}

async function up(extra) {
  const dir = mkdtempSync(join(tmpdir(), 'foshub-up-auth-'));
  dirs.push(dir);
  const base = await freeBase();
  const config = join(dir, 'idp.yaml');
  writeFileSync(config, configText(base, dir));
  const env = { ...process.env };
  for (const k of ['FOSHUB_AUTH', 'FOSHUB_AUTH_ISSUERS', 'FOSHUB_IDP_CONFIG']) delete env[k];
  const p = spawn(BIN, ['up', '--base-port', String(base), '--var', join(dir, 'var'),
                        '--idp-config', config, ...extra],
                  { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.setEncoding('utf8');
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (d) => { out += d; });
  await new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => { out += d; if (/stop with Ctrl-C/.test(out)) resolve(); });
    p.once('exit', (code) => reject(new Error(`up exited ${code}:\n${out}`)));
  });
  return {
    base, out: () => out,
    stop: () => new Promise((res) => {
      p.once('exit', (code) => { if (code !== 0) console.error(out); res(code); });
      p.kill('SIGTERM');
    }),
  };
}

test('up: the hubs trust the federation\'s IdP', async () => {
  const u = await up([]);
  try {
    assert.match(u.out(), /the hubs check tokens from the IdP at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(u.out(), /foshub token/);
    for (const off of [1, 2, 3]) {
      const hub = `http://127.0.0.1:${u.base + off}`;
      assert.equal((await get(hub, null)).status, 401, hub);
      const t = spawnSync(BIN, ['token', '--issuer', `http://127.0.0.1:${u.base}`, '--client-id', 'hub-svc', hub], {
        encoding: 'utf8', env: { ...process.env, FOSHUB_AUTH_CLIENT_SECRET: SECRETS['hub-svc'] },
      });
      assert.equal(t.status, 0, t.stderr);
      const r = await get(hub, t.stdout.trim());
      assert.equal(r.status, 200, hub + ' ' + r.text);
      assert.equal(r.json.sub, 'service-account-hub-svc');
    }
  } finally {
    assert.equal(await u.stop(), 0);
  }
});

test('up --no-auth: no checks', async () => {
  const u = await up(['--no-auth']);
  try {
    const r = await get(`http://127.0.0.1:${u.base + 1}`, null, '/tasks?limit=1');
    assert.equal(r.status, 200);
  } finally {
    assert.equal(await u.stop(), 0);
  }
});
