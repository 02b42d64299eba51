// A real headless Chromium (Debian's, driven by playwright-core over CDP) walks the login and
// consent pages of a real `eca serve` by Salesforce's element ids (#username, #password,
// #Login, #oaapprove, #oadeny), as browser automation written for Salesforce does, and the
// device activation page (#user_code, #connect, then the same buttons). The app's
// callback is a small local HTTP server (playwright's routing does not see redirect targets)
// that records what the browser brought; the code is then exchanged at the token endpoint.
// `CHROMIUM` overrides /usr/bin/chromium.
// Exits non-zero on any failure.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { ADMIN, PASSWORD, runTests, startServer } from './harness.mjs';

const callbacks = [];
const callbackServer = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  // Browsers also ask for /favicon.ico.
  if (url.pathname === '/OauthRedirect') callbacks.push(url);
  res.writeHead(200, { 'content-type': 'text/plain' }).end('callback reached');
});
await new Promise((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
const CALLBACK = `http://127.0.0.1:${callbackServer.address().port}/OauthRedirect`;
const APP = {
  name: 'Browser_App',
  flows: 'web',
  scopes: 'Api,RefreshToken,OpenID',
  callback: CALLBACK,
  clientId: '3MVG9Interop.Chromium.Key',
  clientSecret: 'ChromiumSecret0123456789abcdef0123456789abcd',
};

const DEVICE_APP = {
  name: 'Browser_Device_App',
  flows: 'device',
  scopes: 'Api,RefreshToken',
  callback: CALLBACK,
  clientId: '3MVG9Interop.Chromium.Device.Key',
  clientSecret: 'ChromiumDeviceSecret0123456789abcdef01234567',
};

const server = await startServer([APP, DEVICE_APP]);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});

const b64url = (buf) => buf.toString('base64url');

/** Opens the authorize URL in a fresh browser context, logs in, presses `button` on the
 * consent page and returns the callback URL the browser was sent to, and the PKCE verifier. */
async function walk(button) {
  const verifier = b64url(crypto.randomBytes(48));
  const state = b64url(crypto.randomBytes(12));
  const authorize = new URL(`${server.url}/services/oauth2/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: APP.clientId,
    redirect_uri: CALLBACK,
    scope: 'api refresh_token openid',
    state,
    nonce: b64url(crypto.randomBytes(12)),
    code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();

  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const before = callbacks.length;
    await page.goto(authorize.href);
    await page.fill('#username', ADMIN);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/services/oauth2/authorize')), page.click('#Login')]);
    await page.waitForSelector('#oaapprove');
    assert.ok(await page.isVisible('#oadeny'), 'the consent page has a Deny button');
    await Promise.all([page.waitForURL((u) => u.href.startsWith(CALLBACK)), page.click(`#${button}`)]);
    assert.equal(callbacks.length, before + 1, 'the browser went to the callback');
    assert.equal(await page.textContent('body'), 'callback reached');
    const { searchParams: params } = callbacks.at(-1);
    assert.equal(params.get('state'), state);
    assert.equal(params.get('iss'), server.url);
    return { params, verifier };
  } finally {
    await context.close();
  }
}

try {
  await runTests('chromium', server, {
    async 'deny on the consent page gives access_denied'() {
      const { params } = await walk('oadeny');
      assert.equal(params.get('error'), 'access_denied');
      assert.equal(params.get('code'), null);
    },

    async 'login, approve, and the code is exchanged'() {
      const { params, verifier } = await walk('oaapprove');
      const code = params.get('code');
      assert.ok(code, params.toString());
      const res = await fetch(`${server.url}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: CALLBACK,
          code_verifier: verifier,
          client_id: APP.clientId,
          client_secret: APP.clientSecret,
        }),
      });
      const token = await res.json();
      assert.equal(res.status, 200, JSON.stringify(token));
      assert.ok(token.access_token && token.refresh_token && token.id_token, JSON.stringify(token));
      const info = await fetch(`${server.url}/services/oauth2/userinfo`, { headers: { authorization: `Bearer ${token.access_token}` } });
      assert.equal(info.status, 200);
      assert.equal((await info.json()).preferred_username, ADMIN);
    },

    async 'device activation page: log in, type the code, approve'() {
      const started = await fetch(`${server.url}/services/oauth2/device/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: DEVICE_APP.clientId, scope: 'api refresh_token' }),
      });
      const device = await started.json();
      assert.equal(started.status, 200, JSON.stringify(device));
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(device.verification_uri);
        await page.fill('#username', ADMIN);
        await page.fill('#password', PASSWORD);
        await Promise.all([page.waitForSelector('#user_code'), page.click('#Login')]);
        await page.fill('#user_code', device.user_code);
        await Promise.all([page.waitForSelector('#oaapprove'), page.click('#connect')]);
        await Promise.all([page.waitForSelector('#result'), page.click('#oaapprove')]);
        assert.equal(await page.textContent('#result'), 'You can go back to your device now.');
      } finally {
        await context.close();
      }
      const res = await fetch(`${server.url}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: device.device_code,
          client_id: DEVICE_APP.clientId,
        }),
      });
      const token = await res.json();
      assert.equal(res.status, 200, JSON.stringify(token));
      assert.ok(token.access_token && token.refresh_token, JSON.stringify(token));
    },
  });
} finally {
  await browser.close();
  callbackServer.close();
}
