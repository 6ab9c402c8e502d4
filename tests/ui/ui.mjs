// ui.mjs - what the browser tests share: real hubs on free loopback ports,
// Debian's Chromium driven by playwright-core, screenshots as artifacts,
// and an accessibility check with axe-core.
//
// $FOSHUB_BIN is the binary under test (set by the Makefile), $CHROMIUM
// the browser (default /usr/bin/chromium), $UI_ARTIFACTS the folder for
// screenshots (default build/ui).

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.FOSHUB_BIN || join(ROOT, 'build', 'foshub');
export const ARTIFACTS = process.env.UI_ARTIFACTS || join(ROOT, 'build', 'ui');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // root in a container: Chromium's sandbox needs user namespaces
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export function cli(...args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', cwd: ROOT });
  if (r.status !== 0) throw new Error(`foshub ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// `foshub serve HUB` on a fresh database; resolves to
// { url, db, request(method, path, body), stop() }.
export function startHub(hub, { env = {}, before } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'foshub-ui-'));
  const db = 'sqlite:' + join(dir, hub + '.db');
  if (before) before(db);
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['serve', hub, '--db', db, '--listen', '127.0.0.1:0'],
                    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'],
                      // identity is tested in tests/auth and the login
                      // test; these check the pages
                      env: { ...process.env, FOSHUB_AUTH: 'off', ...env } });
    let log = '';
    let started = false;
    let stopped = null;
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d) => {
      log += d;
      const m = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (!m || started) return;
      started = true;
      const url = `http://127.0.0.1:${m[1]}`;
      resolve({
        url, db, log: () => log,
        async request(method, path, body, headers = {}) {
          const raw = typeof body === 'string' || body instanceof Uint8Array;
          const r = await fetch(url + path, {
            method,
            headers: body === undefined ? headers
              : { 'Content-Type': raw ? 'text/plain' : 'application/json', ...headers },
            body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
          });
          const text = await r.text();
          if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
          return text ? JSON.parse(text) : null;
        },
        stop() {
          if (!stopped) {
            stopped = new Promise((res, rej) => {
              p.once('exit', (code, sig) => {
                rmSync(dir, { recursive: true, force: true });
                if (code !== 0) rej(new Error(`hub exited ${code} ${sig}:\n${log}`));
                else if (/AddressSanitizer|runtime error:|LeakSanitizer/.test(log))
                  rej(new Error('sanitizer report:\n' + log));
                else res();
              });
              p.kill('SIGTERM');
            });
          }
          return stopped;
        },
      });
    });
    p.once('exit', (code) => {
      if (!started) reject(new Error(`hub did not start (${code}):\n${log}`));
    });
  });
}

// A page that records what would go wrong quietly: script errors and
// console errors (a Content-Security-Policy violation is one).
export async function open(context, url) {
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push('console: ' + m.text());
  });
  await page.goto(url);
  await page.locator('#live-status[data-state="live"]').waitFor();
  // gone if the page were ever reloaded
  await page.evaluate(() => { window.__sameDocument = true; });
  return page;
}

export async function sameDocument(page) {
  return page.evaluate(() => window.__sameDocument === true);
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name + '.png'), fullPage: true });
}

// axe-core's WCAG 2 A and AA rules (contrast among them) on the page as
// it is now; returns the violations, each as "rule: targets".
export async function axe(browser, url, options = {}) {
  // the page's CSP forbids injected scripts: this context ignores it
  const context = await browser.newContext({ bypassCSP: true, ...options });
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('#live-status[data-state="live"]').waitFor();
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  await context.close();
  return result.violations.map((v) =>
    `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}
