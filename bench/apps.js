'use strict';
/** Starting a built app (dist/apps/<app>) as its own process, pinned to the servers' core, for the benches. */
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { SERVER_CPU, pinned } = require('./pinning');

const root = path.resolve(__dirname, '..');

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// Servers started here do not outlive the bench, even when it dies (an exception, a closed stdout).
const started = new Set();
process.on('exit', () => {
  for (const child of started) child.kill('SIGTERM');
});

/** Resolves with { url, child } once GET /health/ready answers 200. LOG_LEVEL defaults to warn; stdout is discarded. */
function startApp(app, env = {}) {
  return startScript(path.join(root, 'dist/apps', app, 'src/main.js'), env);
}

/** startApp for any script that serves the platform's health routes on PORT (bench/verifier-server.js). */
async function startScript(script, env = {}) {
  const port = await freePort();
  const child = spawn(...pinned(SERVER_CPU, [process.execPath, script]), {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  const url = `http://127.0.0.1:${port}`;
  // Up to 30 s: a script that compiles TypeScript as it loads takes several on this machine.
  for (let i = 0; i < 600 && child.exitCode === null; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return { url, child };
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`${path.relative(root, script)} did not start`);
}

module.exports = { freePort, startApp, startScript };
