// jsforce's OAuth2 class against a real `eca serve`: getAuthorizationUrl (jsforce's own PKCE
// verifier, 171 characters, beyond RFC 7636's 128), requestToken with the code, refreshToken,
// a Connection using the tokens (identity URL, then jsforce's automatic refresh after the
// access token is revoked), and Connection.login with OAuth2 (the username-password grant).
// The login and consent pages are walked with plain HTTP by the shared harness in
// ../oauth/harness.mjs. Exits non-zero on any failure.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const jsforce = require('jsforce');

const CALLBACK = 'http://127.0.0.1:1717/OauthRedirect';
const APP = {
  name: 'Jsforce_Oauth_App',
  flows: 'web',
  scopes: 'Api,RefreshToken',
  callback: CALLBACK,
  clientId: '3MVG9Interop.Jsforce.OAuth2.Key',
  clientSecret: 'JsforceSecret0123456789abcdef0123456789abcde',
};

async function main() {
  const { ADMIN, PASSWORD, logInAndDecide, runTests, startServer } = await import(path.join(__dirname, '../oauth/harness.mjs'));
  const server = await startServer([APP]);
  const oauth2 = () =>
    new jsforce.OAuth2({
      loginUrl: server.url,
      clientId: APP.clientId,
      clientSecret: APP.clientSecret,
      redirectUri: CALLBACK,
      useVerifier: true,
    });

  async function authorize(client) {
    const state = crypto.randomBytes(9).toString('base64url');
    const url = client.getAuthorizationUrl({ scope: 'api refresh_token', state });
    assert.ok(url.startsWith(`${server.url}/services/oauth2/authorize?`), url);
    const location = new URL(await logInAndDecide(url));
    assert.equal(location.searchParams.get('state'), state);
    return location.searchParams.get('code');
  }

  await runTests('jsforce OAuth2', server, {
    async 'getAuthorizationUrl, requestToken, refreshToken'() {
      const client = oauth2();
      const code = await authorize(client);
      assert.ok(code);
      const token = await client.requestToken(code);
      assert.ok(token.access_token && token.refresh_token, JSON.stringify(token));
      assert.equal(token.instance_url, server.url);
      assert.ok(token.id.startsWith(`${server.url}/id/00D`), token.id);

      const refreshed = await client.refreshToken(token.refresh_token);
      assert.ok(refreshed.access_token, JSON.stringify(refreshed));
      assert.notEqual(refreshed.access_token, token.access_token);
      assert.equal(refreshed.instance_url, server.url);
    },

    async 'a Connection uses the tokens and refreshes itself'() {
      const client = oauth2();
      const token = await client.requestToken(await authorize(client));
      const conn = new jsforce.Connection({
        oauth2: client,
        instanceUrl: token.instance_url,
        accessToken: token.access_token,
        refreshToken: token.refresh_token,
        version: '66.0',
      });
      let refreshedTo = null;
      conn.on('refresh', (accessToken) => {
        refreshedTo = accessToken;
      });
      const identity = await conn.identity();
      assert.equal(identity.username, ADMIN);

      // After revocation the next call gets 401 INVALID_SESSION_ID; jsforce refreshes and retries.
      await client.revokeToken(token.access_token);
      const again = await conn.identity({ headers: {} });
      assert.equal(again.username, ADMIN);
      assert.ok(refreshedTo && refreshedTo !== token.access_token, 'jsforce refreshed the access token');
    },

    async 'username-password login through OAuth2 (Connection.login)'() {
      const conn = new jsforce.Connection({ oauth2: oauth2(), version: '66.0' });
      const user = await conn.login(ADMIN, PASSWORD);
      assert.ok(user.organizationId.startsWith('00D'), JSON.stringify(user));
      assert.ok(conn.accessToken.startsWith(user.organizationId.slice(0, 15)), conn.accessToken);
      assert.equal((await conn.identity()).username, ADMIN);
      await assert.rejects(new jsforce.Connection({ oauth2: oauth2() }).login(ADMIN, 'wrong-password'), /authentication failure/);
    },

    async 'a wrong client secret is refused'() {
      const client = oauth2();
      const code = await authorize(client);
      client.clientSecret = 'not-the-secret';
      await assert.rejects(client.requestToken(code), (e) => /invalid_client/.test(`${e.name} ${e.message}`));
    },
  });
}

main().catch((e) => {
  console.error(`jsforce OAuth2 interop FAILED: ${e.stack || e}`);
  process.exit(1);
});
