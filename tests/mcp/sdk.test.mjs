// sdk.test.mjs - dev-hub driven by the official MCP TypeScript SDK clients,
// over stdio and Streamable HTTP, in both protocol eras:
// @modelcontextprotocol/sdk (v1, session era: initialize, 2025-11-25) and
// @modelcontextprotocol/client (v2, pinned to the stateless 2026-07-28).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';

import { BIN, ROOT, tempDb, importExamples, startHub, post, meta, MODERN } from './hub.mjs';

const EXAMPLE_COUNTS = { todo: 21, in_progress: 1, blocked: 0, done: 4, cancelled: 0 };

function v1() { return new ClientV1({ name: 'foshub-test', version: '1.0.0' }, { capabilities: {} }); }
function v2() {
  return new ClientV2({ name: 'foshub-test', version: '1.0.0' },
                      { versionNegotiation: { mode: { pin: MODERN } } });
}
function stdioParams(db, extra = []) {
  return { command: BIN, args: ['mcp', 'dev', '--db', db, ...extra], cwd: ROOT, stderr: 'pipe' };
}

async function summary(client) {
  const r = await client.callTool({ name: 'get_domain_summary', arguments: { domain: 'custodian' } });
  assert.equal(r.isError ?? false, false, JSON.stringify(r));
  return r.structuredContent;
}

describe('session start over stdio (the smoke test)', () => {
  let t;
  before(() => { t = tempDb(); importExamples(t.db); });
  after(() => t.cleanup());

  test('v1 client: initialize, get_domain_summary has the example counts', async () => {
    const c = v1();
    await c.connect(new StdioV1(stdioParams(t.db)));
    assert.equal(c.getServerVersion().name, 'dev-hub');
    const s = await summary(c);
    assert.equal(s.domain.slug, 'custodian');
    assert.equal(s.tasks.total, 26);
    assert.deepEqual(s.tasks.by_status, EXAMPLE_COUNTS);
    assert.deepEqual(s.tasks.by_priority, { high: 7, medium: 13, low: 6 });
    assert.equal(s.workstreams.items[0].id, 'CUST-WP-0025');
    // the session_start prompt carries the same summary
    const p = await c.getPrompt({ name: 'session_start', arguments: { domain: 'custodian', agent: 'a1' } });
    assert.match(p.messages[0].content.text, /claim_next_task/);
    assert.equal(JSON.parse(p.messages[1].content.resource.text).tasks.total, 26);
    await c.close();
  });

  test('raw stdio: one line per message, nothing else on stdout, clean exit', async () => {
    const { spawnSync } = await import('node:child_process');
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18',
        capabilities: {}, clientInfo: { name: 'raw', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_domain_summary',
        arguments: { domain: 'custodian' } } },
      { jsonrpc: '2.0', id: 3, method: 'server/discover', params: { _meta: meta() } },
    ].map((m) => JSON.stringify(m)).join('\n') + '\nnot json\n';
    const r = spawnSync(BIN, ['mcp', 'dev', '--db', t.db], { input: lines, encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /AddressSanitizer|runtime error|LeakSanitizer/);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(out.length, 4, r.stdout);
    assert.equal(out[0].result.protocolVersion, '2025-06-18');
    assert.equal(out[1].result.structuredContent.tasks.total, 26);
    assert.deepEqual(out[2].result.supportedVersions, [MODERN]);
    assert.equal(out[3].error.code, -32700);
    assert.equal(out[3].id, null); // JSON-RPC 2.0: null when unreadable
  });

  test('v2 client pinned to 2026-07-28 over stdio', async () => {
    const c = v2();
    await c.connect(new StdioV2(stdioParams(t.db)));
    assert.equal(c.getNegotiatedProtocolVersion(), MODERN);
    const s = await summary(c);
    assert.equal(s.tasks.total, 26);
    assert.deepEqual(s.tasks.by_status, EXAMPLE_COUNTS);
    await c.close();
  });
});

describe('Streamable HTTP', () => {
  let t, hub;
  before(async () => { t = tempDb(); importExamples(t.db); hub = await startHub(t.db); });
  after(async () => { await hub.stop(); t.cleanup(); });

  test('v1 client: tools, schemas, calls, validation as tool errors', async () => {
    const c = v1();
    await c.connect(new HttpV1(new URL(hub.url + '/mcp')));
    const { tools } = await c.listTools();
    const names = tools.map((x) => x.name);
    for (const n of ['get_state_summary', 'get_domain_summary', 'list_domains', 'send_message',
                     'get_messages', 'mark_message_read', 'reply_to_message', 'register_capability',
                     'list_capabilities', 'request_capability', 'accept_capability_request',
                     'update_capability_request_status', 'list_capability_requests',
                     'get_capability_request', 'register_repo', 'update_repo_path',
                     'list_domain_repos', 'register_service', 'list_services', 'ingest_tpsc_tool',
                     'get_gdpr_report', 'check_repo_doi', 'get_doi_summary', 'get_risks', 'get_alerts',
                     'list_tasks', 'get_task', 'create_task', 'update_task', 'set_task_status',
                     'claim_next_task', 'release_task', 'import_workplan', 'record_decision']) {
      assert.ok(names.includes(n), `tool ${n} is listed`);
    }
    assert.equal(new Set(names).size, names.length, 'no two tools share a name');
    for (const tool of tools) {
      assert.match(tool.name, /^[A-Za-z0-9_.\/-]{1,64}$/);
      assert.ok(tool.description.length > 20, `${tool.name} has a description`);
      assert.equal(tool.inputSchema.type, 'object');
      assert.equal(typeof tool.annotations.readOnlyHint, 'boolean');
    }
    // deterministic order
    assert.deepEqual((await c.listTools()).tools.map((x) => x.name), names);

    const s = await summary(c);
    assert.equal(s.tasks.total, 26);

    const list = await c.callTool({ name: 'list_tasks',
      arguments: { workstream: 'CUST-WP-0025', status: 'todo', priority: ['high'], limit: 50 } });
    assert.ok(list.structuredContent.items.every((x) => x.status === 'todo' && x.priority === 'high'));
    assert.equal(list.structuredContent.items.length, 4);

    const t08 = await c.callTool({ name: 'get_task', arguments: { id: 'CUST-WP-0025-T08' } });
    assert.equal(t08.structuredContent.status, 'in_progress');
    assert.match(t08.structuredContent.description, /Implementation slice 9/);
    // the text rendering is the same data
    assert.deepEqual(JSON.parse(t08.content[0].text), t08.structuredContent);

    // bad input is a tool error naming the field, not a protocol error
    const bad = await c.callTool({ name: 'create_task',
      arguments: { workstream: 'CUST-WP-0025', title: 'x', priority: 'urgent' } });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /priority/);
    const missing = await c.callTool({ name: 'claim_next_task', arguments: { workstream: 'CUST-WP-0025' } });
    assert.equal(missing.isError, true);
    assert.match(missing.content[0].text, /agent/);
    const unknownArg = await c.callTool({ name: 'get_domain_summary', arguments: { domain: 'custodian', x: 1 } });
    assert.equal(unknownArg.isError, true);
    assert.match(unknownArg.content[0].text, /unknown argument 'x'/);
    await assert.rejects(c.callTool({ name: 'no_such_tool', arguments: {} }), /Unknown tool/);

    // DoI: dev-hub has an evaluator; an unregistered repo is a tool error
    // naming it (hubs without one answer "not configured": test_devhub_work)
    const doi = await c.callTool({ name: 'check_repo_doi', arguments: { repo: 'the-custodian' } });
    assert.equal(doi.isError, true);
    assert.match(doi.content[0].text, /no repo 'the-custodian'/);
    await c.close();
  });

  test('messages, risks and the summary agree across tools', async () => {
    const c = v1();
    await c.connect(new HttpV1(new URL(hub.url + '/mcp')));
    const sent = await c.callTool({ name: 'send_message', arguments:
      { from_agent: 'agent-a', to_domain: 'custodian', subject: 'Ready for T09?' } });
    assert.equal(sent.isError ?? false, false, JSON.stringify(sent));
    assert.equal((await summary(c)).messages.unread, 1);
    const inbox = await c.callTool({ name: 'get_messages', arguments: { to_domain: 'custodian', read: false } });
    assert.equal(inbox.structuredContent.items.length, 1);
    const id = inbox.structuredContent.items[0].id;
    const reply = await c.callTool({ name: 'reply_to_message', arguments: { id, from_agent: 'agent-b', body: 'Yes.' } });
    assert.equal(reply.structuredContent.to_agent, 'agent-a');
    await c.callTool({ name: 'mark_message_read', arguments: { id } });
    assert.equal((await summary(c)).messages.unread, 0);
    const risks = await c.callTool({ name: 'get_risks', arguments: { domain: 'custodian' } });
    assert.deepEqual(risks.structuredContent.items, []);
    await c.close();
  });

  test('resources, templates, completion', async () => {
    const c = v1();
    await c.connect(new HttpV1(new URL(hub.url + '/mcp')));
    const { resources } = await c.listResources();
    const uris = resources.map((r) => r.uri);
    assert.ok(uris.includes('foshub://dev-hub/domains/custodian/summary'));
    assert.ok(uris.includes('foshub://dev-hub/workplans/CUST-WP-0025'));
    const { resourceTemplates } = await c.listResourceTemplates();
    assert.ok(resourceTemplates.some((r) => r.uriTemplate === 'foshub://dev-hub/workstreams/{id}'));
    const wp = await c.readResource({ uri: 'foshub://dev-hub/workplans/CUST-WP-0025' });
    assert.equal(wp.contents[0].mimeType, 'text/markdown');
    assert.match(wp.contents[0].text, /^---\nid: CUST-WP-0025\n/);
    assert.equal((wp.contents[0].text.match(/^### T\d+ — /gm) || []).length, 26);
    const ws = await c.readResource({ uri: 'foshub://dev-hub/workstreams/CUST-WP-0025' });
    assert.equal(JSON.parse(ws.contents[0].text).phases.length, 4);
    await assert.rejects(c.readResource({ uri: 'foshub://dev-hub/workstreams/NOPE' }), /not found/i);
    const done = await c.complete({ ref: { type: 'ref/prompt', name: 'session_start' },
                                    argument: { name: 'domain', value: 'cus' } });
    assert.deepEqual(done.completion.values, ['custodian']);
    const ids = await c.complete({ ref: { type: 'ref/resource', uri: 'foshub://dev-hub/workplans/{id}' },
                                   argument: { name: 'id', value: 'FOS' } });
    assert.deepEqual(ids.completion.values, ['FOSHUB-WP-0001']);
    await c.close();
  });

  test('subscribed resources announce their changes on the session stream', async () => {
    const c = v1();
    const updated = [];
    c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updated.push(n.params.uri));
    await c.connect(new HttpV1(new URL(hub.url + '/mcp')));
    const uri = 'foshub://dev-hub/domains/custodian/summary';
    await c.subscribeResource({ uri });
    await assert.rejects(c.subscribeResource({ uri: 'foshub://dev-hub/domains/nope/summary' }),
                         /not found/i);
    // a change made elsewhere (REST) changes what the resource reads
    const r = await fetch(hub.url + '/messages', { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from_agent: 'x', to_domain: 'custodian', subject: 'ping' }) });
    assert.equal(r.status, 201);
    for (let i = 0; i < 50 && updated.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(updated, [uri]);
    // unsubscribed: no more news
    await c.unsubscribeResource({ uri });
    await fetch(hub.url + '/messages', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from_agent: 'x', to_domain: 'custodian', subject: 'again' }) });
    await new Promise((res) => setTimeout(res, 800));
    assert.equal(updated.length, 1);
    await c.close();
  });

  test('import_workplan reports progress', async () => {
    const c = v1();
    await c.connect(new HttpV1(new URL(hub.url + '/mcp')));
    const fs = await import('node:fs');
    const text = fs.readFileSync(ROOT + '/examples/workplans/CUST-WP-0025.txt', 'utf8');
    const progress = [];
    const r = await c.callTool({ name: 'import_workplan', arguments: { content: text, source: 'x.txt' } },
                               undefined, { onprogress: (p) => progress.push(p) });
    assert.equal(r.structuredContent.tasks, 26);
    assert.ok(progress.length >= 2, `progress notifications: ${JSON.stringify(progress)}`);
    assert.equal(progress.at(-1).progress, 26);
    assert.equal(progress.at(-1).total, 26);
    const bad = await c.callTool({ name: 'import_workplan',
      arguments: { content: text.replace('status: done', 'status: finished'), source: 'bad.txt' } });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /bad\.txt:55:9: .*finished/);
    await c.close();
  });

  test('v2 client, stateless 2026-07-28, over HTTP', async () => {
    const c = v2();
    await c.connect(new HttpV2(new URL(hub.url + '/mcp')));
    assert.equal(c.getNegotiatedProtocolVersion(), MODERN);
    const { tools } = await c.listTools();
    assert.ok(tools.some((x) => x.name === 'claim_next_task'));
    assert.ok(!tools.some((x) => x.name.startsWith('test_')), 'no fixtures without the flag');
    const s = await summary(c);
    assert.equal(s.tasks.total, 26);
    await c.close();
  });
});

describe('claim_next_task is atomic', () => {
  let t, hub;
  before(async () => { t = tempDb(); importExamples(t.db); hub = await startHub(t.db); });
  after(async () => { await hub.stop(); t.cleanup(); });

  async function claimAll(client, agent) {
    const got = [];
    for (;;) {
      const r = await client.callTool({ name: 'claim_next_task',
                                        arguments: { workstream: 'FOSHUB-WP-0001', agent } });
      assert.equal(r.isError ?? false, false, JSON.stringify(r));
      if (r.structuredContent.task === null) return got;
      assert.equal(r.structuredContent.task.assignee, agent);
      assert.equal(r.structuredContent.task.status, 'in_progress');
      got.push(r.structuredContent.task.id);
    }
  }

  test('two concurrent clients (HTTP and stdio) never get the same task', async () => {
    const a = v1();
    const b = v2();
    await a.connect(new HttpV1(new URL(hub.url + '/mcp')));
    await b.connect(new StdioV2(stdioParams(t.db)));
    const [ga, gb] = await Promise.all([claimAll(a, 'agent-a'), claimAll(b, 'agent-b')]);
    const all = [...ga, ...gb];
    assert.equal(new Set(all).size, all.length, `no task twice: ${all}`);
    assert.equal(all.length, 5, 'every todo task of FOSHUB-WP-0001 claimed exactly once');
    // priority order within each claimer: high before medium before low
    const r = await a.callTool({ name: 'release_task', arguments: { task: ga[0] ?? gb[0], agent: 'nobody' } });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /claimed by/);
    const mine = ga[0] ? { task: ga[0], agent: 'agent-a' } : { task: gb[0], agent: 'agent-b' };
    const rel = await a.callTool({ name: 'release_task', arguments: mine });
    assert.equal(rel.structuredContent.status, 'todo');
    assert.equal(rel.structuredContent.assignee, null);
    await a.close();
    await b.close();
  });
});

describe('HTTP transport rules', () => {
  let t, hub;
  before(async () => { t = tempDb(); hub = await startHub(t.db); });
  after(async () => { await hub.stop(); t.cleanup(); });

  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params:
    { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

  test('sessions: issued on initialize, required after, gone after DELETE', async () => {
    const r = await post(hub.url, init);
    assert.equal(r.status, 200);
    const sid = r.headers.get('mcp-session-id');
    assert.match(sid, /^[\x21-\x7e]+$/);
    const ping = { jsonrpc: '2.0', id: 2, method: 'ping' };
    assert.equal((await post(hub.url, ping)).status, 400, 'no session id');
    assert.equal((await post(hub.url, ping, { 'Mcp-Session-Id': 'nope' })).status, 404);
    const ok = await post(hub.url, ping, { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.result, {});
    const badVersion = await post(hub.url, ping, { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '1999-01-01' });
    assert.equal(badVersion.status, 400);
    const del = await fetch(hub.url + '/mcp', { method: 'DELETE', headers: { 'Mcp-Session-Id': sid } });
    assert.equal(del.status, 204);
    assert.equal((await post(hub.url, ping, { 'Mcp-Session-Id': sid })).status, 404);
  });

  test('the GET stream belongs to a session', async () => {
    const r = await fetch(hub.url + '/mcp', { headers: { Accept: 'text/event-stream' } });
    assert.equal(r.status, 405);
    const sid = (await post(hub.url, init)).headers.get('mcp-session-id');
    const ac = new AbortController();
    const s = await fetch(hub.url + '/mcp', { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid },
                                              signal: ac.signal });
    assert.equal(s.status, 200);
    assert.equal(s.headers.get('content-type'), 'text/event-stream');
    const second = await fetch(hub.url + '/mcp', { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid } });
    assert.equal(second.status, 200); // a new GET takes the stream over
    // ...and the old one ends, so a reconnecting client is never locked out
    assert.match(await s.text(), /stream open/);
    // ending the session ends its stream
    await fetch(hub.url + '/mcp', { method: 'DELETE', headers: { 'Mcp-Session-Id': sid } });
    assert.match(await second.text(), /stream open/);
  });

  test('DNS rebinding: foreign Host or Origin is 403', async () => {
    const evil = await post(hub.url, init, { Origin: 'http://evil.example' });
    assert.equal(evil.status, 403);
    const lookalike = await post(hub.url, init, { Origin: 'http://localhost.evil.example' });
    assert.equal(lookalike.status, 403);
    const fine = await post(hub.url, init, { Origin: `http://localhost:${hub.port}` });
    assert.equal(fine.status, 200);
  });

  test('stateless errors: envelope, headers, versions, removed methods', async () => {
    const discover = { jsonrpc: '2.0', id: 7, method: 'server/discover', params: { _meta: meta() } };
    const h = { 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'server/discover' };
    const ok = await post(hub.url, discover, h);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.result.supportedVersions, [MODERN]);
    assert.equal(ok.json.result.resultType, 'complete');
    assert.equal(ok.json.result._meta['io.modelcontextprotocol/serverInfo'].name, 'dev-hub');

    const noCaps = await post(hub.url, { ...discover, params: { _meta:
      { 'io.modelcontextprotocol/protocolVersion': MODERN } } }, h);
    assert.equal(noCaps.status, 400);
    assert.equal(noCaps.json.error.code, -32602);

    const mismatch = await post(hub.url, discover, { ...h, 'Mcp-Method': 'tools/list' });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json.error.code, -32020);

    const future = await post(hub.url, { ...discover, params: { _meta: meta({
      'io.modelcontextprotocol/protocolVersion': '2099-01-01' }) } }, { ...h, 'MCP-Protocol-Version': '2099-01-01' });
    assert.equal(future.status, 400);
    assert.equal(future.json.error.code, -32022);
    assert.deepEqual(future.json.error.data, { supported: [MODERN], requested: '2099-01-01' });

    const ping = await post(hub.url, { jsonrpc: '2.0', id: 9, method: 'ping', params: { _meta: meta() } },
                            { ...h, 'Mcp-Method': 'ping' });
    assert.equal(ping.status, 404);
    assert.equal(ping.json.error.code, -32601);
    assert.equal(ping.json.id, 9);

    const name = await post(hub.url, { jsonrpc: '2.0', id: 10, method: 'tools/call',
      params: { name: 'list_domains', arguments: {}, _meta: meta() } },
      { ...h, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'get_task' });
    assert.equal(name.status, 400);
    assert.equal(name.json.error.code, -32020);

    const garbage = await post(hub.url, '{"jsonrpc": "2.0", ', h);
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.error.code, -32700);
    assert.equal(garbage.json.id, null);

    const batch = await post(hub.url, [discover], h);
    assert.equal(batch.status, 400);
  });
});

describe('smaller tool sets', () => {
  test('--mcp-tools core and a list', async () => {
    const t = tempDb();
    const core = await startHub(t.db, ['--mcp-tools', 'core']);
    const c = v1();
    await c.connect(new HttpV1(new URL(core.url + '/mcp')));
    const names = (await c.listTools()).tools.map((x) => x.name);
    assert.ok(names.includes('claim_next_task') && names.includes('get_domain_summary'));
    assert.ok(!names.includes('register_capability') && !names.includes('import_workplan'));
    assert.ok(names.length < 25, `core is small: ${names.length}`);
    await c.close();
    await core.stop();
    const listed = await startHub(t.db, ['--mcp-tools', 'get_task,claim_next_task']);
    const c2 = v1();
    await c2.connect(new HttpV1(new URL(listed.url + '/mcp')));
    assert.deepEqual((await c2.listTools()).tools.map((x) => x.name), ['get_task', 'claim_next_task']);
    await c2.close();
    await listed.stop();
    t.cleanup();
  });
});
