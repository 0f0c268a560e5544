// Runs schemathesis against a fresh worker: starts `wrangler dev` the way the
// end-to-end tests do (harness.mjs), prepares the fixtures the run needs with
// the root key, runs `schemathesis run` on the worker's own /openapi.json,
// stops the worker and exits with schemathesis's status.
//
//   node tests/schemathesis/run.mjs <schemathesis binary> [extra schemathesis options]
//
// scripts/schemathesis.sh makes the venv and calls this.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, ROOT, ROOT_KEY, call } from '../e2e/harness.mjs';

const [bin, ...extra] = process.argv.slice(2);
if (!bin) {
  console.error('usage: node tests/schemathesis/run.mjs <schemathesis binary> [options]');
  process.exit(2);
}

const started = Date.now();
// Uploads by URL fetch from this local file server (hooks.py points the
// positive cases at it), which ALLOW_LOCAL_URLS lets the worker reach.
const files = createServer((req, res) => {
  res.writeHead(req.url.startsWith('/f/') ? 200 : 404, { 'Content-Type': 'text/plain' });
  res.end(req.url.startsWith('/f/') ? `file ${req.url}\n` : 'not found\n');
});
await new Promise((ok) => files.listen(0, '127.0.0.1', ok));
const filesUrl = `http://127.0.0.1:${files.address().port}`;
// DEMO serves the demo page, one of the documented calls.
const worker = await startWorker({ ALLOW_LOCAL_URLS: '1', DEMO: '1' });
let code = 1;
let configDir;
try {
  const must = (r, status, what) => {
    if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r.body;
  };
  const project = 'demo';
  const key = ROOT_KEY;
  // A template, a key, an API key and a file, so that the calls by id reach
  // things that exist (the links of the document do it in stateful testing).
  const template = must(await call(worker.url, 'POST', `/${project}/v5/security-templates`, {
    key, body: { description: 'schemathesis', permissions: ['FILE_UPLOAD', 'OBJECTS_LIST', 'OBJECTS_FETCH'] },
  }), 201, 'template').template;
  // One only for the bulk activation (hooks.py puts its id in the body):
  // the shared one may have been deleted by then, which is a 404.
  const bulk = must(await call(worker.url, 'POST', `/${project}/v5/security-templates`, {
    key, body: { description: 'schemathesis, bulk activation', permissions: ['OBJECTS_LIST'] },
  }), 201, 'template').template;
  const minted = must(await call(worker.url, 'POST', `/${project}/key`, {
    key, body: { data: { permissions: ['FILE_UPLOAD', 'OBJECTS_LIST'] } },
  }), 200, 'key').key;
  const apiKey = must(await call(worker.url, 'POST', '/v5/api-keys', {
    key, body: { description: 'schemathesis', permissions: ['OBJECTS_LIST'], projects: [project] },
  }), 201, 'api key').api_key;
  const put = must(await call(worker.url, 'PUT', `/${project}/v5/objects/photo.jpg`, {
    key, raw: 'hello', headers: { 'Content-Type': 'image/jpeg' },
  }), 201, 'object').file;
  const fixtures = { project, template: template.id, sass_key: minted, api_key: apiKey.id, file: put.uuid, path: 'photo.jpg' };
  console.log(`schemathesis: worker ${worker.url}, fixtures ${JSON.stringify({ ...fixtures, sass_key: '…' })}`);

  // The configuration, with the fixtures as dictionaries: each call by id
  // takes the fixture's id half of the time, and a generated one otherwise.
  const dictionaries = {
    st_project: project, st_template: fixtures.template, st_api_key: fixtures.api_key,
    st_file: fixtures.file, st_path: fixtures.path, st_sass_key: fixtures.sass_key,
  };
  const bindings = [
    [['readTemplate', 'patchTemplate', 'deleteTemplate'], 'path.id', 'st_template'],
    [['issueKey', 'issueKeyV5', 'demoPage'], 'path.template_id', 'st_template'],
    [['readApiKey', 'patchApiKey', 'deleteApiKey'], 'path.id', 'st_api_key'],
    [['inspectFile', 'renameFile', 'deleteFile', 'setFileMeta'].flatMap((o) => [o, `${o}V4`]), 'path.uuid', 'st_file'],
    [['getObject', 'headObject', 'deleteObject', 'moveObject', 'setObjectMeta'], 'path.path', 'st_path'],
    [['keyInfo'], 'query.key', 'st_sass_key'],
  ];
  const config = [
    readFileSync(join(ROOT, 'tests/schemathesis/schemathesis.toml'), 'utf8'),
    '# Made by tests/schemathesis/run.mjs for this run.',
    ...Object.entries(dictionaries).map(([name, value]) => `[dictionaries.${name}]\nvalues = [${JSON.stringify(value)}]\n`),
    '[parameters]\n"path.project" = { dictionary = "st_project", probability = 0.5 }\n',
    ...bindings.map(([ops, param, dict]) => `[[operations]]\ninclude-operation-id = ${JSON.stringify(ops)}\n`
      + `parameters = { ${JSON.stringify(param)} = { dictionary = "${dict}", probability = 0.5 } }\n`),
  ].join('\n');
  configDir = mkdtempSync(join(tmpdir(), 'sass-edge-st-'));
  writeFileSync(join(configDir, 'schemathesis.toml'), config);
  const args = [
    '--config-file', join(configDir, 'schemathesis.toml'),
    'run', `${worker.url}/openapi.json`,
    '--url', worker.url,
    ...extra,
  ];
  const env = {
    ...process.env,
    ST_ROOT_KEY: key,
    ST_PROJECT: fixtures.project,
    ST_TEMPLATE: fixtures.template,
    ST_BULK_TEMPLATE: bulk.id,
    ST_SASS_KEY: fixtures.sass_key,
    ST_API_KEY: fixtures.api_key,
    ST_FILE: fixtures.file,
    ST_PATH: fixtures.path,
    ST_FILES_URL: filesUrl,
  };
  const child = spawn(bin, args, { stdio: 'inherit', env, cwd: ROOT });
  code = await new Promise((ok) => child.once('exit', (c, signal) => ok(c ?? (signal ? 1 : 0))));
} catch (e) {
  console.error(e);
  console.error(worker.log());
} finally {
  await worker.stop();
  files.close();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
}
console.log(`schemathesis: exit ${code} after ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(code);
