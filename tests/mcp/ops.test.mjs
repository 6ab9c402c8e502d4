// ops.test.mjs - ops-hub over MCP with the official SDK client (stdio,
// session era): its tools next to hub-core's, with the TPSC tools under
// their prefixed names so that nothing shadows register_service and
// list_services; and a round through services, incidents and runbooks.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { BIN, ROOT } from './hub.mjs';

const OPS_TOOLS = ['register_service', 'list_services', 'get_service_health',
  'probe_service', 'get_cluster_health', 'get_storage_health', 'create_incident',
  'update_incident', 'resolve_incident', 'get_runbook', 'execute_runbook_step',
  'list_access_paths', 'check_access_path'];

describe('ops-hub over stdio', () => {
  let dir, db, c;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foshub-ops-mcp-'));
    db = 'sqlite:' + join(dir, 'ops-hub.db');
    c = new Client({ name: 'ops-test', version: '1.0.0' }, { capabilities: {} });
    await c.connect(new StdioClientTransport({ command: BIN, args: ['mcp', 'ops', '--db', db],
                                               cwd: ROOT, stderr: 'pipe' }));
  });
  after(async () => { await c.close(); rmSync(dir, { recursive: true, force: true }); });

  const call = async (name, args) => c.callTool({ name, arguments: args });
  const ok = async (name, args) => {
    const r = await call(name, args);
    assert.equal(r.isError ?? false, false, `${name}: ${JSON.stringify(r.content)}`);
    return r.structuredContent;
  };

  test('the tool set: ops tools, hub-core tools, prefixed TPSC tools', async () => {
    assert.equal(c.getServerVersion().name, 'ops-hub');
    const { tools } = await c.listTools();
    const names = tools.map((t) => t.name);
    for (const n of [...OPS_TOOLS, 'get_domain_summary', 'get_alerts', 'send_message',
                     'register_tpsc_service', 'list_tpsc_services'])
      assert.ok(names.includes(n), `tool ${n} is listed`);
    assert.equal(new Set(names).size, names.length, 'no two tools share a name');
    const reg = tools.find((t) => t.name === 'register_service');
    assert.match(reg.description, /runtime service/);
    assert.ok(reg.inputSchema.properties.probes, 'register_service takes probes');
    assert.ok(!reg.inputSchema.properties.vendor, 'not the TPSC register_service');
  });

  test('services, incidents and runbooks', async () => {
    const s = await ok('register_service', { name: 'gitea', kind: 'application',
      probes: [{ kind: 'tcp', host: '127.0.0.1', port: 1 }] });
    assert.equal(s.health, 'unknown');
    // registering again is an update, not a conflict
    assert.equal((await ok('register_service', { name: 'gitea', namespace: 'gitea' })).namespace, 'gitea');
    const bad = await call('register_service', { name: 'x', probes: [
      { kind: 'http', url: 'http://127.0.0.1:1/', conditions: ['[STATUS] = 200'] }] });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /probes\[0\]\.conditions\[0\].*column 10/);
    const probed = await ok('probe_service', { service: 'gitea' });
    assert.equal(probed.results[0].ok, false);
    assert.equal(probed.service.health, 'pending');
    const h = await ok('get_service_health', { service: 'gitea' });
    assert.equal(h.color, 'amber');
    assert.equal(h.history.length, 1);
    assert.equal((await ok('list_services', { health: 'pending' })).items.length, 1);

    const inc = await ok('create_incident', { title: 'git is down', severity: 'SEV2',
      impact: 'major', services: ['gitea'], author: 'agent-7' });
    assert.equal(inc.status, 'investigating');
    const skip = await call('update_incident', { id: inc.id, author: 'agent-7', status: 'resolved' });
    assert.equal(skip.isError, true);
    assert.match(skip.content[0].text, /cannot skip to resolved \(next: identified\)/);
    await ok('update_incident', { id: inc.id, author: 'agent-7', status: 'identified',
                                  note: 'disk full' });
    await ok('update_incident', { id: inc.id, author: 'agent-7', status: 'monitoring' });
    const done = await ok('resolve_incident', { id: inc.id, author: 'agent-7', note: 'cleaned' });
    assert.equal(done.status, 'resolved');
    assert.equal(done.timeline.length, 4);

    await ok('create_runbook', { name: 'gitea-disk', service: 'gitea', title: 'Disk full',
      steps: [{ title: 'check', command: 'df -h', expected: 'below 80%' }] });
    const rb = await ok('get_runbook', { service: 'gitea' });
    assert.equal(rb.steps[0].command, 'df -h');
    const ex = await ok('execute_runbook_step', { runbook: 'gitea-disk', step: 1,
      actor: 'agent-7', outcome: 'success', output: '41%' });
    assert.equal(ex.step_title, 'check');
    const none = await call('execute_runbook_step', { runbook: 'gitea-disk', step: 2,
      actor: 'agent-7', outcome: 'success' });
    assert.equal(none.isError, true);
    assert.equal((await ok('get_runbook', { runbook: 'gitea-disk' })).executions.length, 1);
    assert.deepEqual((await ok('list_access_paths', {})).items, []);
  });
});
