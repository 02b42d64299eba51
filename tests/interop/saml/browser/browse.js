// A headless Chromium user for tests/interop/saml/sp_flows.py: opens a URL on the IdP, logs in
// on the login page when it shows (element ids username, password, Login), lets the IdP's
// auto-submitting form run, and prints as JSON what the browser POSTed to the service provider
// (the SP's URLs are answered here, nothing listens there). Only 127.0.0.1 is ever contacted.
//
//   node browse.js <url> <username> <password> <sp-url-prefix> [<storage-state.json>]
//
// The storage state (cookies) is read before and written after, so consecutive runs are one
// browser session. Debian's chromium, launched as the issue asks.
'use strict';

const fs = require('node:fs');
const { chromium } = require('playwright-core');

async function main() {
  const [url, username, password, spPrefix, statePath] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking'],
  });
  try {
    const options = statePath && fs.existsSync(statePath) ? { storageState: statePath } : {};
    const context = await browser.newContext(options);
    // Nothing leaves 127.0.0.1.
    await context.route((u) => !u.href.startsWith('http://127.0.0.1'), (route) => route.abort());
    let posted = null;
    await context.route((u) => u.href.startsWith(spPrefix), async (route) => {
      const request = route.request();
      posted = {
        method: request.method(),
        url: request.url(),
        body: request.postData() || '',
      };
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'received' });
    });
    const page = await context.newPage();
    await page.goto(url);
    if (!posted && (await page.locator('#username').count()) > 0) {
      await page.fill('#username', username);
      await page.fill('#password', password);
      await page.click('#Login');
    }
    const deadline = Date.now() + 30000;
    while (!posted && Date.now() < deadline) {
      await page.waitForTimeout(100);
    }
    if (statePath) {
      await context.storageState({ path: statePath });
    }
    if (!posted) {
      throw new Error(`nothing reached ${spPrefix}; the page is ${page.url()}:\n${await page.content()}`);
    }
    process.stdout.write(JSON.stringify(posted) + '\n');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
