// hubs.mjs - real hub processes with identity checks on, for the auth
// tests; and tokens forged with jose from the test IdP's own key files
// (the IdP under test is ours, so its private keys are test fixtures).

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { BIN, ROOT } from '../idp/idp.mjs';

// Start `foshub serve HUB` with auth on; resolves to { url, port, stop, log }.
export async function startHub({ hub = 'dev', db, issuers, args = [] }) {
  const env = { ...process.env };
  for (const k of ['FOSHUB_AUTH', 'FOSHUB_AUTH_ISSUERS', 'FOSHUB_AUTH_AUDIENCE', 'FOSHUB_DB', 'FOSHUB_LISTEN'])
    delete env[k];
  const p = spawn(BIN, ['serve', hub, '--db', db, '--listen', '127.0.0.1:0',
                        ...issuers.flatMap((i) => ['--auth-issuer', i]), ...args],
                  { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (d) => { log += d; });
  const port = await new Promise((resolve, reject) => {
    const check = () => {
      // the audience is known once the port is: wait for that line
      const m = log.match(/identity checks on: audience http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { p.stderr.off('data', check); resolve(Number(m[1])); }
    };
    p.stderr.on('data', check);
    p.once('exit', (code) => reject(new Error(`hub did not start (${code}):\n${log}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url, port, log: () => log,
    stop: () => new Promise((res, rej) => {
      if (p.exitCode !== null) { res(); return; }
      p.once('exit', (code, sig) => {
        if (code !== 0) rej(new Error(`hub exited ${code} ${sig}:\n${log}`));
        else if (/AddressSanitizer|runtime error:|LeakSanitizer/.test(log))
          rej(new Error('sanitizer report:\n' + log));
        else res();
      });
      p.kill('SIGTERM');
    }),
  };
}

// The IdP's signing keys (private JWKs) from its keys directory.
export function idpKeys(dir) {
  const out = {};
  for (const f of readdirSync(dir)) {
    const k = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    out[k.alg] = k.jwk;
  }
  return out;
}

// Sign claims as the IdP would, with header overrides.
export async function forge(keys, claims, { alg = 'RS256', header = {} } = {}) {
  const jwk = keys[alg];
  const key = await jose.importJWK(jwk, alg);
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt', ...header })
    .sign(key);
}

export const b64u = (s) => Buffer.from(s).toString('base64url');

export async function get(url, token, path = '/whoami', init = {}) {
  const r = await fetch(url + path, {
    ...init, headers: { ...(token ? { Authorization: 'Bearer ' + token } : {}), ...(init.headers || {}) },
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text, headers: r.headers };
}
