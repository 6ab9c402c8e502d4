// devhub.test.mjs - dev-hub's tools for dependencies and ready work,
// contributions, SBOMs and the definition of integration, driven by the
// official TypeScript SDK client (v1) over stdio and, pinned to the
// stateless 2026-07-28 revision (v2), over HTTP.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';

import { BIN, ROOT, tempDb, importExamples, startHub, MODERN } from './hub.mjs';

const WS = 'CUST-WP-0025';

async function call(c, name, args) {
  const r = await c.callTool({ name, arguments: args });
  return r;
}
function ok(r) {
  assert.equal(r.isError ?? false, false, JSON.stringify(r));
  return r.structuredContent;
}

describe('dev-hub work tools over stdio (v1)', () => {
  let t, c;
  before(async () => {
    t = tempDb(); importExamples(t.db);
    c = new ClientV1({ name: 'foshub-test', version: '1.0.0' }, { capabilities: {} });
    await c.connect(new StdioV1({ command: BIN, args: ['mcp', 'dev', '--db', t.db], cwd: ROOT, stderr: 'pipe' }));
  });
  after(async () => { await c.close(); t.cleanup(); });

  test('the new tools are listed with descriptions; core tier has ready work', async () => {
    const names = (await c.listTools()).tools.map((x) => x.name);
    for (const n of ['list_ready_tasks', 'list_blocked_tasks', 'add_dependency', 'list_dependencies',
                     'remove_dependency', 'record_contribution', 'list_goals', 'create_goal',
                     'record_tech_debt', 'propose_enhancement', 'ingest_sbom', 'find_component_usage',
                     'list_sbom_components', 'check_repo_doi', 'get_doi_summary']) {
      assert.ok(names.includes(n), n);
    }
  });

  test('dependencies decide ready work and the claim; cycles are tool errors naming the cycle', async () => {
    ok(await call(c, 'add_dependency', { item: `${WS}-T09`, depends_on: `${WS}-T10` }));
    const cyc = await call(c, 'add_dependency', { item: `${WS}-T10`, depends_on: `${WS}-T09` });
    assert.equal(cyc.isError, true);
    assert.match(cyc.content[0].text, /cycle: CUST-WP-0025-T10 -> CUST-WP-0025-T09 -> CUST-WP-0025-T10/);
    const ready = ok(await call(c, 'list_ready_tasks', { workstream: WS, limit: 500 }));
    assert.ok(!ready.items.some((x) => x.id === `${WS}-T09`));
    const blocked = ok(await call(c, 'list_blocked_tasks', { workstream: WS }));
    assert.equal(blocked.items[0].blockers[0].id, `${WS}-T10`);
    const one = ok(await call(c, 'get_task', { id: `${WS}-T09` }));
    assert.deepEqual(one.blockers.map((b) => [b.kind, b.id]), [['task', `${WS}-T10`]]);
    const claim = ok(await call(c, 'claim_next_task', { workstream: WS, agent: 'mcp-agent' }));
    assert.notEqual(claim.task.id, `${WS}-T09`);
    const con = ok(await call(c, 'record_contribution', { task: claim.task.id, contributor: 'mcp-agent',
                                                          summary: 'did it', session_id: 'sess-1' }));
    assert.equal(con.workstream, WS);
  });

  test('SBOM ingest and usage', async () => {
    ok(await call(c, 'register_repo', { name: 'app', domain: 'custodian' }));
    const bom = { bomFormat: 'CycloneDX', specVersion: '1.4',
                  components: [{ name: 'zlib', version: '1.3', purl: 'pkg:generic/zlib@1.3',
                                 licenses: [{ license: { id: 'Zlib' } }] }] };
    const r = ok(await call(c, 'ingest_sbom', { repo: 'app', content: JSON.stringify(bom) }));
    assert.equal(r.component_count, 1);
    const u = ok(await call(c, 'find_component_usage', { component: 'ZLIB' }));
    assert.deepEqual(u.repos.map((x) => x.repo), ['app']);
    const bad = await call(c, 'ingest_sbom', { repo: 'app', content: '{"bomFormat":"CycloneDX","specVersion":"9"}' });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /specVersion/);
  });

  test('check_repo_doi evaluates a registered repo', async () => {
    const dir = join(t.dir, 'repo');
    mkdirSync(dir);
    writeFileSync(join(dir, 'README.md'), '# repo\n');
    ok(await call(c, 'register_repo', { name: 'doi-repo', domain: 'custodian', default_path: dir }));
    const r = ok(await call(c, 'check_repo_doi', { repo: 'doi-repo' }));
    assert.equal(r.repo, 'doi-repo');
    const items = Object.fromEntries(r.items.map((i) => [i.id, i]));
    assert.equal(items.readme.passed, true);
    assert.equal(items['rule-files'].passed, false);
    const s = ok(await call(c, 'get_doi_summary', { domain: 'custodian', refresh: true }));
    assert.ok(s.repos.some((x) => x.repo === 'doi-repo'));
  });
});

describe('dev-hub work tools over HTTP, stateless era (v2)', () => {
  let t, hub;
  before(async () => { t = tempDb(); importExamples(t.db); hub = await startHub(t.db); });
  after(async () => { await hub.stop(); t.cleanup(); });

  test('list_ready_tasks and a cycle refused', async () => {
    const c = new ClientV2({ name: 'foshub-test', version: '1.0.0' },
                           { versionNegotiation: { mode: { pin: MODERN } } });
    await c.connect(new HttpV2(new URL(hub.url + '/mcp')));
    const ready = ok(await call(c, 'list_ready_tasks', { domain: 'custodian', limit: 3 }));
    assert.equal(ready.items.length, 3);
    assert.equal(ready.items[0].priority, 'high');
    ok(await call(c, 'add_dependency', { kind: 'task', item: `${WS}-T01`, depends_on: `${WS}-T02` }));
    const cyc = await call(c, 'add_dependency', { item: `${WS}-T02`, depends_on: `${WS}-T01` });
    assert.equal(cyc.isError, true);
    await c.close();
  });
});
