// `metallmix serve` as a user starts it (a child process on a free port), the Python notebook
// client against it through /usr/bin/python3, and the bind rule through the CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.ts';
import { postJson } from './helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const PROFILE = path.join(ROOT, 'examples/chest-xray-small.json');
const CLIENT = path.join(ROOT, 'examples/notebook_client.py');

describe('metallmix serve', () => {
  let child: ChildProcess;
  let url: string;
  let dir: string;
  const stderr: string[] = [];
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'metallmix-serve-cli-'));
    child = spawn(process.execPath, ['bin/metallmix.js', 'serve', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, METALLMIX_CACHE: path.join(dir, 'cache'), METALLMIX_KB: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (d) => stderr.push(String(d)));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += String(d);
        const m = /^(http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) =>
        reject(new Error(`serve exited with ${code}: ${stderr.join('')}`)),
      );
    });
  });
  after(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  test('prints its URL and answers on 127.0.0.1', async () => {
    const health = await fetch(`${url}/v1/health`);
    assert.equal(health.status, 200);
    assert.match(stderr.join(''), /serving http:\/\/127\.0\.0\.1:\d+\/ .*no auth/);
  });

  test('the notebook client prints the pick the server gives', async () => {
    const rec = await postJson(`${url}/v1/recommend`, {
      profile: JSON.parse(readFileSync(PROFILE, 'utf8')),
      objective: 'balanced',
      budgetMinutes: 3,
    });
    const run = spawnSync(
      '/usr/bin/python3',
      [CLIENT, PROFILE, '--url', url, '--objective', 'balanced', '--budget-minutes', '3'],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    const config = Object.entries(rec.body.pick.config)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    assert.match(run.stdout, new RegExp(`^pick: ${rec.body.pick.model} \\(${config}\\)$`, 'm'));
    assert.match(run.stdout, /^predicted accuracy: 0\.\d{4} \(80%: 0\.\d{4} to 0\.\d{4}\)$/m);
    assert.match(run.stdout, /^best under 3(\.0)? min: /m);
    const json = spawnSync('/usr/bin/python3', [CLIENT, PROFILE, '--url', url, '--json'], {
      encoding: 'utf8',
    });
    assert.equal(JSON.parse(json.stdout).schemaVersion, 2);
  });

  test('the notebook client reports the field a 400 names', () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ name: 'x', task: 'multiclass', modality: 'xray', numInstances: 10 }),
    );
    const run = spawnSync('/usr/bin/python3', [CLIENT, bad, '--url', url], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /field "profile\.numClasses"/);
    assert.match(run.stderr, /HTTP 400/);
  });

  test('stops on SIGTERM with exit code 0', async () => {
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);
    assert.match(stderr.join(''), /SIGTERM: stopping/);
    assert.match(stderr.join(''), /"GET \/v1\/health HTTP\/1\.1" 200/);
  });
});

test('serve beyond loopback without a token or --no-auth exits 2 naming the way out', async () => {
  const r = await runCli('serve', '--host', '0.0.0.0', '--port', '0');
  assert.equal(r.code, 2);
  assert.match(r.err, /field "host": .*--token.*--no-auth/);
});
