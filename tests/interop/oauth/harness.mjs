// The server the JavaScript interop tests talk to: a real `eca serve` on 127.0.0.1 (free port,
// temporary data directory) with apps made by `eca app new`, given fixed consumer keys and
// secrets in their global OAuth settings (accepted on the first deploy, spec/metadata.md §2.3)
// and deployed with `eca deploy`, as a user would. `ECA_BIN` overrides the binary.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ECA = process.env.ECA_BIN || path.join(ROOT, 'target/debug/eca');
export const ADMIN = 'admin@demo.example';
export const PASSWORD = 'Interop-Admin-Password-42';

function listen(dir) {
  const env = { ...process.env, ECA_ADMIN_PASSWORD: PASSWORD };
  for (const v of Object.keys(env)) {
    if (v.startsWith('ECA_') && v !== 'ECA_ADMIN_PASSWORD') delete env[v];
  }
  const child = spawn(ECA, ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'data')], {
    env,
    stdio: ['ignore', 'pipe', fs.openSync(path.join(dir, 'server.log'), 'w')],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no `listening on` line within 60 s')), 60000);
    child.on('exit', (code) => reject(new Error(`eca serve exited with ${code}; see ${dir}/server.log`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
  });
}

/**
 * Starts the server and deploys `apps`: each `{ name, flows, scopes, callback, clientId,
 * clientSecret, extraXml }` (extraXml: elements added to the global OAuth settings).
 * Returns `{ url, dir, stop() }`.
 */
export async function startServer(apps) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eca-js-interop-'));
  const { child, url } = await listen(dir);
  const stop = () => child.kill('SIGTERM');
  try {
    const env = { ...process.env, ECA_CONFIG_DIR: path.join(dir, 'config') };
    const eca = (args, input = '') => execFileSync(ECA, args, { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    eca(['login', '--instance-url', url, '--username', ADMIN, '--password-stdin', '--alias', 'it'], `${PASSWORD}\n`);
    eca(['project', 'init', 'proj', '--output-dir', dir]);
    const project = path.join(dir, 'proj');
    for (const app of apps) {
      eca(['app', 'new', app.name, '--flows', app.flows, '--scopes', app.scopes, '--callback', app.callback, '--project-dir', project]);
      const file = path.join(project, 'force-app/main/default/extlClntAppGlobalOauthSets', `${app.name}_glbloauth.ecaGlblOauth-meta.xml`);
      const added = `    <consumerKey>${app.clientId}</consumerKey>\n    <consumerSecret>${app.clientSecret}</consumerSecret>\n${app.extraXml || ''}`;
      const xml = fs.readFileSync(file, 'utf8').replace('</ExtlClntAppGlobalOauthSettings>', `${added}</ExtlClntAppGlobalOauthSettings>`);
      fs.writeFileSync(file, xml);
    }
    const out = eca(['deploy', '--source-dir', project, '--target-org', 'it', '--ignore-warnings']);
    if (!out.includes('Succeeded')) throw new Error(`deploy failed:\n${out}`);
  } catch (e) {
    stop();
    throw new Error(`${e.message}\n${e.stdout || ''}${e.stderr || ''}`);
  }
  return { url, dir, stop };
}

/** Runs `tests` (name → async function) in order, prints each result, stops the server, and
 * sets a non-zero exit code on a failure. */
export async function runTests(label, server, tests) {
  let failed = 0;
  try {
    for (const [name, test] of Object.entries(tests)) {
      try {
        await test();
        console.log(`ok   ${label}: ${name}`);
      } catch (e) {
        failed += 1;
        console.error(`FAIL ${label}: ${name}\n${e.stack || e}`);
      }
    }
  } finally {
    server.stop();
  }
  if (failed) {
    console.error(`${label}: ${failed} failed (server log: ${server.dir}/server.log)`);
    process.exitCode = 1;
    return;
  }
  console.log(`${label}: all passed`);
}

/** A tiny cookie-keeping HTTP client for walking the login and consent pages without a browser. */
export class FormWalker {
  constructor() {
    this.cookies = new Map();
  }

  async fetch(url, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
    return res;
  }

  /** GETs `url` and follows redirects that stay on `origin`; returns the last response and its URL. */
  async follow(url, origin, init) {
    let res = await this.fetch(url, init);
    while ([301, 302, 303, 307].includes(res.status)) {
      const next = new URL(res.headers.get('location'), url);
      if (next.origin !== origin) return { res, url: next.href, body: '' };
      url = next.href;
      res = await this.fetch(url);
    }
    return { res, url, body: await res.text() };
  }
}

/** The single form of a page: `{ action, fields, ids }`, hidden and text inputs with values. */
export function onlyForm(page, pageUrl) {
  const forms = [...page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  if (forms.length !== 1) throw new Error(`expected one form at ${pageUrl}:\n${page}`);
  const attr = (tag, name) => {
    const m = new RegExp(`\\b${name}="([^"]*)"`).exec(tag);
    return m ? unescape(m[1]) : undefined;
  };
  const fields = {};
  const ids = new Set();
  for (const [tag] of forms[0][2].matchAll(/<input\b[^>]*>/g)) {
    if (attr(tag, 'id')) ids.add(attr(tag, 'id'));
    if (attr(tag, 'name') && attr(tag, 'type') !== 'submit') fields[attr(tag, 'name')] = attr(tag, 'value') || '';
  }
  const action = new URL(attr(forms[0][1], 'action') || pageUrl, pageUrl).href;
  return { action, fields, ids };
}

function unescape(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Walks login and consent for `authorizeUrl` as a browser without JavaScript would and
 * returns the Location of the redirect to the client's callback (`button`: oaapprove/oadeny).
 * A user who approved the app before sees no consent page; add `prompt=consent` to ask again.
 * `walker` keeps the browser's cookies, for a test that goes on with the same session.
 */
export async function logInAndDecide(authorizeUrl, button = 'oaapprove', walker = new FormWalker()) {
  const origin = new URL(authorizeUrl).origin;
  const loginPage = await walker.follow(authorizeUrl, origin);
  if (loginPage.res.status !== 200) throw new Error(`login page: ${loginPage.res.status} ${loginPage.body}`);
  const login = onlyForm(loginPage.body, loginPage.url);
  for (const id of ['username', 'password', 'Login']) if (!login.ids.has(id)) throw new Error(`login form without #${id}`);
  const form = (fields) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  const afterLogin = await walker.follow(login.action, origin, form({ ...login.fields, username: ADMIN, password: PASSWORD }));
  if ([302, 303].includes(afterLogin.res.status)) {
    // Approved before: straight to the callback.
    if (button !== 'oaapprove') throw new Error('no consent page to deny on');
    return afterLogin.url;
  }
  if (afterLogin.res.status !== 200) throw new Error(`consent page: ${afterLogin.res.status} ${afterLogin.body}`);
  const consent = onlyForm(afterLogin.body, afterLogin.url);
  if (!consent.ids.has('oaapprove') || !consent.ids.has('oadeny')) throw new Error(`consent form without buttons: ${afterLogin.body}`);
  const decided = await walker.fetch(consent.action, form({ ...consent.fields, [button]: button === 'oaapprove' ? 'Allow' : 'Deny' }));
  if (![302, 303].includes(decided.status)) throw new Error(`decision: ${decided.status} ${await decided.text()}`);
  return decided.headers.get('location');
}
