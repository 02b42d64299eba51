// jsforce's Metadata API client against a real `eca serve`, so the SOAP shapes of deploy,
// checkDeployStatus, listMetadata and retrieve are checked by a real client, not only ours.
//
// Starts `target/debug/eca serve --listen 127.0.0.1:0` in a temporary folder (or $ECA_BIN),
// logs in with jsforce's SOAP login, deploys a zip that `eca app new` + `eca project convert`
// make, polls checkDeployStatus(id, true) until done, then lists and retrieves. Exits non-zero
// on any failure.
'use strict';

const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const jsforce = require('jsforce');

const ROOT = path.resolve(__dirname, '../../..');
const ECA = process.env.ECA_BIN || path.join(ROOT, 'target/debug/eca');
const PASSWORD = 'Jsforce-Interop-Password-42';
const USERNAME = 'admin@demo.example';
const APP = 'Jsforce_App';

function startServer(dir) {
  const env = { ...process.env, ECA_ADMIN_PASSWORD: PASSWORD };
  for (const v of ['ECA_LISTEN', 'ECA_DATABASE_URL', 'ECA_PUBLIC_URL', 'ECA_MASTER_KEY', 'ECA_DATA_DIR']) {
    delete env[v];
  }
  const child = spawn(ECA, ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'data')], {
    env,
    stdio: ['ignore', 'pipe', fs.openSync(path.join(dir, 'server.log'), 'w')],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no `listening on` line within 60 s')), 60000);
    child.on('exit', (code) => reject(new Error(`eca serve exited with ${code}`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
  });
}

function eca(args) {
  return execFileSync(ECA, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eca-jsforce-'));
  const { child, url } = await startServer(dir);
  try {
    eca(['project', 'init', 'proj', '--output-dir', dir]);
    const project = path.join(dir, 'proj');
    eca(['app', 'new', APP, '--oauth', '--project-dir', project]);
    const zipPath = path.join(dir, 'deploy.zip');
    eca(['project', 'convert', 'source', '--root-dir', project, '--output-zip', zipPath]);
    const zip = fs.readFileSync(zipPath);

    const conn = new jsforce.Connection({ loginUrl: url, version: '66.0' });
    const user = await conn.login(USERNAME, PASSWORD);
    assert.ok(user.organizationId.startsWith('00D'), `organizationId ${user.organizationId}`);
    console.log(`logged in to ${conn.instanceUrl} as ${USERNAME}`);

    const started = await conn.metadata.deploy(zip, { rollbackOnError: true, singlePackage: true });
    assert.ok(started.id.startsWith('0Af'), `deploy id ${started.id}`);
    console.log(`deploy ${started.id}: ${started.state}`);

    let result;
    for (let i = 0; i < 200; i++) {
      result = await conn.metadata.checkDeployStatus(started.id, true);
      if (String(result.done) === 'true') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(String(result.done), 'true', 'the deploy finished');
    assert.equal(result.status, 'Succeeded', JSON.stringify(result, null, 2));
    assert.equal(String(result.success), 'true');
    const successes = [].concat(result.details.componentSuccesses || []);
    const names = successes.map((c) => `${c.componentType}:${c.fullName}`);
    assert.ok(names.includes(`ExternalClientApplication:${APP}`), names.join(', '));
    assert.ok(names.includes(`ExtlClntAppOauthSettings:${APP}_oauth`) || names.some((n) => n.startsWith('ExtlClntAppOauthSettings:')), names.join(', '));
    assert.equal(Number(result.numberComponentErrors), 0);
    console.log(`deploy ${result.id}: ${result.status}, ${successes.length} component results`);

    const listed = [].concat(await conn.metadata.list([{ type: 'ExternalClientApplication' }], '66.0'));
    assert.ok(listed.some((f) => f.fullName === APP), JSON.stringify(listed));
    console.log(`listMetadata: ${listed.map((f) => f.fullName).join(', ')}`);

    const retrieve = await conn.metadata
      .retrieve({
        apiVersion: '66.0',
        singlePackage: true,
        unpackaged: { types: [{ name: 'ExternalClientApplication', members: ['*'] }, { name: 'ExtlClntAppGlobalOauthSettings', members: ['*'] }], version: '66.0' },
      })
      .complete(true);
    assert.equal(retrieve.status, 'Succeeded', JSON.stringify(retrieve));
    const files = [].concat(retrieve.fileProperties || []);
    assert.ok(files.some((f) => f.fullName === APP), JSON.stringify(files));
    const retrievedZip = Buffer.from(retrieve.zipFile, 'base64');
    assert.ok(retrievedZip.length > 0 && retrievedZip.readUInt32LE(0) === 0x04034b50, 'a zip came back');
    console.log(`retrieve: ${files.length} files, ${retrievedZip.length} zip bytes`);
    console.log('jsforce interop: OK');
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((e) => {
  console.error(`jsforce interop FAILED: ${e.stack || e}`);
  process.exit(1);
});
