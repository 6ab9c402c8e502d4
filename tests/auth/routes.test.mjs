// routes.test.mjs - authorization of every REST route and every MCP tool,
// walked from the hubs' own tables: each hub's /openapi.json (made from its
// route tables, and itself checked by an OpenAPI 3.1 validator) lists every
// operation with its permission, tools/list every tool with its read-only
// hint. Without a token every protected operation is 401; a token without
// roles gets 403 everywhere; a viewer's token gets 403 on every writing
// operation and tool, and is let through to the others.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import * as client from 'openid-client';
import { startIdp, login, PW } from '../idp/idp.mjs';
import { startHub } from './hubs.mjs';

const insecure = { execute: [client.allowInsecureRequests] };
const CB = 'http://127.0.0.1:5555/cb';
let idp, dir, pub;
const hubs = {};

before(async () => {
  idp = await startIdp();
  dir = mkdtempSync(join(tmpdir(), 'foshub-routes-'));
  for (const h of ['dev', 'ops', 'fin'])
    hubs[h] = await startHub({ hub: h, db: 'sqlite:' + join(dir, h + '.db'), issuers: [idp.url],
                               args: h === 'ops' ? [] : [] });
  pub = await client.discovery(new URL(idp.url), 'rp-public', undefined, client.None(), insecure);
});

after(async () => {
  for (const h of Object.values(hubs)) await h.stop();
  await idp?.stop();
  idp?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function token(username, resource) {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(pub, {
    redirect_uri: CB, scope: 'openid', state: 's', resource,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const r = await login(idp.url, url, { username, password: PW[username] });
  assert.equal(r.status, 302, r.html);
  return (await client.authorizationCodeGrant(pub, new URL(r.location),
                                              { pkceCodeVerifier: verifier, expectedState: 's' })).access_token;
}

// Every operation of an OpenAPI document: { method, path, permission }.
function operations(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item))
      out.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x'),
                 permission: op['x-foshub-permission'], security: op.security });
  return out;
}

async function call(hub, op, tok) {
  const init = { method: op.method, headers: tok ? { Authorization: 'Bearer ' + tok } : {} };
  if (!['GET', 'HEAD', 'DELETE'].includes(op.method)) {
    init.headers['Content-Type'] = 'application/json';
    init.body = '{}';
  }
  const r = await fetch(hub.url + op.path, init);
  await r.arrayBuffer();
  return r.status;
}

for (const name of ['dev', 'ops', 'fin']) {
  describe(`${name}-hub`, () => {
    let doc, ops;

    test('its OpenAPI document is valid OpenAPI 3.1 and lists every route with its permission', async () => {
      const hub = hubs[name];
      doc = await (await fetch(hub.url + '/openapi.json')).json();
      assert.equal(doc.openapi, '3.1.0');
      await SwaggerParser.validate(structuredClone(doc));
      ops = operations(doc);
      assert.ok(ops.length > 20, `${ops.length} operations`);
      for (const op of ops) {
        assert.ok(['public', 'read', 'write', 'admin'].includes(op.permission), `${op.method} ${op.path}`);
        assert.equal(op.security.length === 0, op.permission === 'public', `${op.method} ${op.path}`);
      }
      // the document is about this hub: its audience is the server
      assert.equal(doc.servers[0].url, hub.url);
    });

    test('without a token every protected operation is 401', async () => {
      for (const op of ops.filter((o) => o.permission !== 'public'))
        assert.equal(await call(hubs[name], op), 401, `${op.method} ${op.path}`);
    });

    test('a token without roles is 403 everywhere; a viewer is 403 on every write', async () => {
      const hub = hubs[name];
      const nora = await token('nora', hub.url);
      const erin = await token('erin', hub.url);
      for (const op of ops.filter((o) => o.permission !== 'public')) {
        assert.equal(await call(hub, op, nora), 403, `nora ${op.method} ${op.path}`);
        const s = await call(hub, op, erin);
        if (op.permission === 'read')
          assert.ok(s !== 401 && s !== 403, `erin ${op.method} ${op.path}: ${s}`);
        else
          assert.equal(s, 403, `erin ${op.method} ${op.path}`);
      }
    });

    test('every writing MCP tool is 403 for a viewer, every read-only one lets it through', async () => {
      const hub = hubs[name];
      const erin = await token('erin', hub.url);
      const rpc = async (tok, method, params, id = 1) => {
        const r = await fetch(hub.url + '/mcp', {
          method: 'POST',
          headers: { Authorization: 'Bearer ' + tok, 'Content-Type': 'application/json',
                     Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2026-07-28',
                     'Mcp-Method': method, ...(params.name ? { 'Mcp-Name': params.name } : {}) },
          body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {} } } }),
        });
        return { status: r.status, json: await r.json().catch(() => null) };
      };
      let tools = [], cursor;
      do {
        const page = await rpc(erin, 'tools/list', cursor ? { cursor } : {});
        assert.equal(page.status, 200);
        tools = tools.concat(page.json.result.tools);
        cursor = page.json.result.nextCursor;
      } while (cursor);
      assert.ok(tools.length > 10);
      for (const t of tools) {
        const r = await rpc(erin, 'tools/call', { name: t.name, arguments: {} });
        if (t.annotations?.readOnlyHint)
          assert.notEqual(r.status, 403, `${t.name} is read-only`);
        else
          assert.equal(r.status, 403, `${t.name} writes`);
      }
    });
  });
}
