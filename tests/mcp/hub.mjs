// hub.mjs - start real foshub processes for the MCP tests.
//
// The binary comes from $FOSHUB_BIN (set by the Makefile), the example
// workplans are imported into a fresh SQLite database in a temporary
// directory, and the hub listens on a free loopback port that is read from
// its "listening on" log line.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.FOSHUB_BIN || join(ROOT, 'build', 'foshub');
export const EXAMPLES = join(ROOT, 'examples', 'workplans');

export function tempDb() {
  const dir = mkdtempSync(join(tmpdir(), 'foshub-mcp-'));
  return { dir, db: 'sqlite:' + join(dir, 'dev-hub.db'),
           cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function importExamples(db) {
  const r = spawnSync(BIN, ['workplan', 'import', '--db', db, EXAMPLES],
                      { encoding: 'utf8', cwd: ROOT });
  if (r.status !== 0) throw new Error('import failed: ' + r.stderr);
  return r.stdout;
}

// Start `foshub serve dev`; resolves to { url, port, stop, log }.
export function startHub(db, extraArgs = []) {
  return new Promise((resolve, reject) => {
    // the MCP tests check the protocol; identity has its own (tests/auth)
    const p = spawn(BIN, ['serve', 'dev', '--db', db, '--listen', '127.0.0.1:0',
                          ...extraArgs], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'],
                                           env: { ...process.env, FOSHUB_AUTH: 'off' } });
    let log = '';
    let done = false;
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m && !done) {
        done = true;
        const port = Number(m[1]);
        resolve({
          port,
          url: `http://127.0.0.1:${port}`,
          log: () => log,
          stop: () => new Promise((res, rej) => {
            p.once('exit', (code, sig) => {
              if (code !== 0) rej(new Error(`hub exited ${code} ${sig}:\n${log}`));
              else if (/AddressSanitizer|runtime error:|LeakSanitizer/.test(log))
                rej(new Error('sanitizer report:\n' + log));
              else res();
            });
            p.kill('SIGTERM');
          }),
        });
      }
    });
    p.once('exit', (code) => {
      if (!done) reject(new Error(`hub did not start (${code}):\n${log}`));
    });
  });
}

// One raw JSON-RPC POST to /mcp; returns { status, headers, body, json }.
export async function post(url, message, headers = {}) {
  const r = await fetch(url + '/mcp', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json',
               Accept: 'application/json, text/event-stream', ...headers },
    body: typeof message === 'string' ? message : JSON.stringify(message),
  });
  const body = await r.text();
  let json = null;
  try { json = JSON.parse(body); } catch { /* SSE or empty */ }
  return { status: r.status, headers: r.headers, body, json };
}

export const MODERN = '2026-07-28';
export function meta(extra = {}) {
  return { 'io.modelcontextprotocol/protocolVersion': MODERN,
           'io.modelcontextprotocol/clientCapabilities': {}, ...extra };
}
