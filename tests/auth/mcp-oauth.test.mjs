// mcp-oauth.test.mjs - MCP authorization as an MCP client meets it: the
// official TypeScript SDK client connects to a hub's /mcp, gets a 401
// naming the protected resource metadata (RFC 9728), finds foshub's IdP
// there, registers itself (RFC 7591), logs a user in with PKCE (the login
// page driven headlessly, where a browser would be) and calls tools with
// the token; a viewer's token cannot call a writing tool (403).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { startIdp, openAuthorize, submitLogin, PW } from '../idp/idp.mjs';
import { startHub } from './hubs.mjs';

let idp, hub, dir;

before(async () => {
  idp = await startIdp();
  dir = mkdtempSync(join(tmpdir(), 'foshub-auth-mcp-'));
  hub = await startHub({ db: 'sqlite:' + join(dir, 'dev.db'), issuers: [idp.url] });
});

after(async () => {
  await hub?.stop();
  await idp?.stop();
  idp?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// An OAuthClientProvider whose "browser" is a headless login as username.
class HeadlessProvider {
  constructor(username) {
    this.username = username;
    this.info = undefined;
    this.saved = undefined;
    this.verifier = undefined;
    this.code = undefined;
    this.seen = [];
  }
  get redirectUrl() { return 'http://127.0.0.1:7999/callback'; }
  get clientMetadata() {
    return { client_name: 'SDK test client', redirect_uris: [this.redirectUrl],
             grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
             token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.info; }
  saveClientInformation(info) { this.info = info; }
  tokens() { return this.saved; }
  saveTokens(t) { this.saved = t; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
  async redirectToAuthorization(url) {
    this.seen.push(url);
    const page = await openAuthorize(url.href);
    assert.equal(page.status, 200, page.html);
    const r = await submitLogin(idp.url, page, { username: this.username, password: PW[this.username] });
    assert.equal(r.status, 302, r.html);
    this.code = new URL(r.location).searchParams.get('code');
  }
}

async function connect(provider) {
  const url = new URL(hub.url + '/mcp');
  const c1 = new Client({ name: 'foshub-auth-test', version: '1.0.0' });
  // first attempt: 401, discovery, registration, the login
  await assert.rejects(c1.connect(new StreamableHTTPClientTransport(url, { authProvider: provider })),
                       UnauthorizedError);
  assert.ok(provider.code, 'the client went through the login');
  const t = new StreamableHTTPClientTransport(url, { authProvider: provider });
  await t.finishAuth(provider.code);
  const c2 = new Client({ name: 'foshub-auth-test', version: '1.0.0' });
  await c2.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
  return c2;
}

test('without a token, /mcp answers 401 naming the resource metadata', async () => {
  const r = await fetch(hub.url + '/mcp', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'),
               new RegExp(`resource_metadata="${hub.url}/.well-known/oauth-protected-resource"`));
  assert.match(r.headers.get('www-authenticate'), /scope="openid profile offline_access"/);
});

test('the SDK client discovers the IdP, registers, logs in and calls tools', async () => {
  const p = new HeadlessProvider('alice');
  const client = await connect(p);
  try {
    // it registered dynamically and asked for this hub as the resource
    assert.match(p.info.client_id, /^dyn-/);
    const auth = p.seen[0];
    assert.equal(auth.origin, idp.url);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(auth.searchParams.get('resource'), hub.url);
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'list_domains'));
    const res = await client.callTool({ name: 'list_domains', arguments: {} });
    assert.notEqual(res.isError, true, JSON.stringify(res));
    const made = await client.callTool({ name: 'send_message',
                                         arguments: { from_agent: 'alice', to_agent: 'bob', subject: 'via MCP' } });
    assert.notEqual(made.isError, true, JSON.stringify(made));
  } finally {
    await client.close();
  }
});

test('a viewer reads through MCP but cannot call a writing tool (403)', async () => {
  const p = new HeadlessProvider('erin');
  const client = await connect(p);
  try {
    const res = await client.callTool({ name: 'list_domains', arguments: {} });
    assert.notEqual(res.isError, true);
    await assert.rejects(client.callTool({ name: 'send_message',
                                           arguments: { from_agent: 'erin', to_agent: 'bob', subject: 'no' } }),
                         /403|Forbidden|needs the write permission/);
  } finally {
    await client.close();
  }
});
