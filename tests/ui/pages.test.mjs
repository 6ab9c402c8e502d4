// pages.test.mjs - each hub's page in a real browser (Debian's Chromium):
// it loads from a seeded hub and shows what the hub knows; a change made
// through the API (a probe goes down, a cost is imported, a task is done)
// appears without a reload; it is keyboard operable, passes axe-core's
// WCAG 2 AA rules in light and dark, fits a phone, breaks no
// Content-Security-Policy rule, and says when the connection is lost.
// Screenshots go to build/ui/ (see ui.mjs).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, axe, cli, launch, open, sameDocument, screenshot, startHub } from './ui.mjs';

const PUSH_TOKEN = 'change-me-to-a-long-random-token';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
                colorScheme: 'dark' };
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function noOverflow(page) {
  return page.evaluate(() =>
    document.documentElement.scrollWidth <= window.innerWidth + 1);
}

async function accessible(url) {
  for (const colorScheme of ['light', 'dark']) {
    const violations = await axe(browser, url, { colorScheme });
    assert.deepEqual(violations, [], `axe (${colorScheme}) on ${url}`);
  }
}

test('ops-hub /now: status grid, incidents, access, storage, changes, live', async () => {
  const hub = await startHub('ops', { env: { FOSHUB_OPS_PROBES: 'off' } });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 },
                                         colorScheme: 'light' });
  try {
    await hub.request('POST', '/inventory?source=inventory.yaml',
                      readFileSync(join(ROOT, 'examples', 'ops', 'inventory.yaml'), 'utf8'));
    await hub.request('POST', '/changes', { summary: 'gitea 1.22 to 1.23', service: 'gitea',
                                            changed_by: 'bob' });
    const page = await open(ctx, hub.url + '/now');
    assert.equal(await page.locator('h1').textContent(), 'Now');
    assert.equal(await page.locator('#services .grid > li').count(), 7);
    assert.match(await page.locator('#access').textContent(), /backup-ssh/);
    assert.match(await page.locator('#changes').textContent(), /gitea 1\.22 to 1\.23/);

    // a probe goes down: three failed push reports
    for (let i = 0; i < 3; i++)
      await hub.request('POST', '/services/nightly-backup/push',
                        { success: false, message: 'rsync exited 23' },
                        { Authorization: 'Bearer ' + PUSH_TOKEN });
    await page.locator('#svc-nightly-backup.red').waitFor();
    assert.ok(await sameDocument(page), 'the page updated without a reload');
    assert.match(await page.locator('#services .summary').textContent(), /1 down/);

    // the reason, with the keyboard: focus the tile and press Enter
    const tile = page.locator('#svc-nightly-backup');
    await tile.locator('summary').focus();
    await page.keyboard.press('Enter');
    assert.equal(await tile.getAttribute('open'), '');
    assert.match(await tile.locator('.why').textContent(), /push failed: rsync exited 23/);
    assert.match(await tile.locator('summary').getAttribute('title'), /rsync exited 23/);

    // an incident opens and moves on
    const inc = await hub.request('POST', '/incidents',
      { title: 'Backups failing', opened_by: 'alice', severity: 'SEV2',
        services: ['nightly-backup'] });
    await hub.request('POST', `/incidents/${inc.id}/updates`,
                      { author: 'bob', status: 'identified', note: 'disk full on the target' });
    await page.locator(`#inc-${inc.id} ol.timeline li`, { hasText: 'disk full' }).waitFor();
    assert.equal(await page.locator(`#inc-${inc.id} svg[role="img"] rect.step`).count(), 2);
    // the open details survived the updates
    assert.equal(await tile.getAttribute('open'), '');
    assert.ok(await sameDocument(page));
    assert.deepEqual(page.problems, []);
    await screenshot(page, 'ops-now-light');

    // a phone in dark mode: no sideways scrolling, tiles open on a tap
    const phone = await browser.newContext(PHONE);
    const small = await open(phone, hub.url + '/now');
    assert.ok(await noOverflow(small), 'the page fits the phone');
    await small.locator('#svc-nightly-backup summary').tap();
    assert.equal(await small.locator('#svc-nightly-backup').getAttribute('open'), '');
    await screenshot(small, 'ops-now-dark-phone');
    await phone.close();

    await accessible(hub.url + '/now');

    // the hub stops: the page says so
    await hub.stop();
    await page.locator('#live-status[data-state="lost"]').waitFor();
    assert.match(await page.locator('#live-status').textContent(),
                 /Connection lost \(the hub is stopping\)/);
    await screenshot(page, 'ops-now-connection-lost');
  } finally {
    await ctx.close();
    await hub.stop().catch(() => {});
  }
});

test('fin-hub /runway: balance, burn, projection, budgets, token spend, live', async () => {
  const hub = await startHub('fin');
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    for (const name of ['ops', 'cloud']) await hub.request('POST', '/domains', { name });
    await hub.request('POST', '/accounts', { domain: 'ops', balance: 6000000, currency: 'EUR',
                                             as_of: '2026-05-01' });
    await hub.request('POST', '/commitments', { domain: 'ops', currency: 'EUR', type: 'salary',
                                                vendor: 'Staff', amount: 500000,
                                                cadence: 'monthly', start_date: '2026-01-01' });
    await hub.request('POST', '/budgets', { domain: 'cloud', period: '2026-03',
                                            allocated: 30000, currency: 'USD' });
    const page = await open(ctx, hub.url + '/runway');
    const runway = page.locator('#rw-ops');
    assert.match(await runway.textContent(), /60000\.00 EUR/);
    assert.match(await runway.textContent(), /5000\.00 EUR/);
    assert.match(await runway.textContent(), /12\.0 months/);
    assert.equal(await runway.locator('svg.chart rect.bar').count(), 12);
    assert.match(await runway.locator('svg.chart .threshold-label').textContent(),
                 /threshold 30000\.00 EUR/);
    assert.match(await page.locator('#budget-cloud-2026-03').textContent(), /0\.00 USD/);
    assert.match(await page.locator('#tokens').textContent(), /No token spend/);

    // costs are imported: the variable average joins the burn, and the
    // cloud budget fills up
    await hub.request('POST', '/imports/invoices?source=invoices.csv&domain=ops',
                      readFileSync(join(ROOT, 'tests', 'data', 'fin', 'invoices.csv'), 'utf8'),
                      { 'Content-Type': 'text/csv' });
    await runway.locator('dd', { hasText: '9000.00 EUR' }).waitFor();
    await hub.request('POST', '/imports/focus?source=focus.csv&domain=cloud',
                      readFileSync(join(ROOT, 'tests', 'data', 'fin', 'focus.csv'), 'utf8'),
                      { 'Content-Type': 'text/csv' });
    await page.locator('#budget-cloud-2026-03 .badge.amber', { hasText: 'warning' }).waitFor();
    await hub.request('POST', '/imports/claude-code?source=session-a.jsonl&skip_bad=true',
                      readFileSync(join(ROOT, 'tests', 'data', 'fin', 'claude', 'projects',
                                        '-home-w-foshub', 'session-a.jsonl'), 'utf8'),
                      { 'Content-Type': 'application/x-ndjson' });
    await page.locator('#tokens th', { hasText: 'claude-sonnet-4-5' }).waitFor();
    assert.equal(await page.locator('#tokens svg.chart[role="img"]').count(), 1);
    assert.ok(await sameDocument(page), 'the page updated without a reload');
    assert.deepEqual(page.problems, []);
    await screenshot(page, 'fin-runway-light');

    // one domain, on a phone, in the dark
    const phone = await browser.newContext(PHONE);
    const small = await open(phone, hub.url + '/runway?domain=ops');
    assert.equal(await small.locator('nav.pick a[aria-current="page"]').textContent(), 'ops');
    assert.equal(await small.locator('#budgets tbody tr').count(), 0);
    assert.ok(await noOverflow(small), 'the page fits the phone');
    await screenshot(small, 'fin-runway-dark-phone');
    await phone.close();

    await accessible(hub.url + '/runway');
  } finally {
    await ctx.close();
    await hub.stop();
  }
});

test('dev-hub /board: workstreams, blocked tasks, decisions, messages, risks, live', async () => {
  const hub = await startHub('dev', {
    before: (db) => cli('workplan', 'import', '--db', db, join(ROOT, 'examples', 'workplans')),
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const WS = 'CUST-WP-0025';
  try {
    const page = await open(ctx, hub.url + '/board');
    assert.match(await page.locator(`#ws-${WS} summary`).textContent(), /4 done/);
    assert.match(await page.locator('#blocked').textContent(), /Nothing is blocked/);

    // a task is done: it moves to the Done column
    await hub.request('PATCH', `/tasks/${WS}-T09`, { status: 'done' });
    await page.waitForFunction((id) => {
      const li = document.getElementById(id);
      return li && li.closest('div').querySelector('h4').textContent.startsWith('Done');
    }, `task-${WS}-T09`);
    assert.match(await page.locator(`#ws-${WS} summary`).textContent(), /5 done/);

    // a dependency blocks a task; a message arrives; a risk surfaces
    await hub.request('POST', '/dependencies', { item: `${WS}-T10`, depends_on: `${WS}-T11` });
    await page.locator(`#blocked-${WS}-T10`, { hasText: `${WS}-T11` }).waitFor();
    assert.equal(await page.locator(`#task-${WS}-T10 .badge.red`).textContent(),
                 'waits on 1');
    await hub.request('POST', '/messages', { from_agent: 'ci', to_domain: 'custodian',
                                             subject: 'build is red' });
    await page.locator('#inbox-custodian', { hasText: '1 unread' }).waitFor();
    await hub.request('POST', '/progress', { event_type: 'risk_surfaced', domain: 'custodian',
                                             severity: 'high', correlation_id: 'risk-1',
                                             summary: 'the IdP has one maintainer' });
    await page.locator('#risks li', { hasText: 'the IdP has one maintainer' }).waitFor();
    assert.ok(await sameDocument(page), 'the page updated without a reload');
    assert.deepEqual(page.problems, []);
    await screenshot(page, 'dev-board-light');

    const phone = await browser.newContext(PHONE);
    const small = await open(phone, hub.url + '/board?domain=custodian');
    assert.ok(await noOverflow(small), 'the page fits the phone');
    await screenshot(small, 'dev-board-dark-phone');
    await phone.close();

    await accessible(hub.url + '/board');
  } finally {
    await ctx.close();
    await hub.stop();
  }
});
