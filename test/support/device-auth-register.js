/**
 * Lets a child `node` process run the TypeScript sources directly (the way
 * jest does, through @swc/core), with the @portcullis/* aliases resolved, so
 * e2e tests can run a second app in its own process without a build step.
 */
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const root = path.join(__dirname, '..', '..');
const APPS = new Set(['bot-control', 'device-auth', 'interface-proxy', 'room-gateway']);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const m = /^@portcullis\/([a-z-]+)(\/.*)?$/.exec(request);
  if (m) request = path.join(root, APPS.has(m[1]) ? 'apps' : 'libs', m[1], 'src', m[2] || '');
  return resolve.call(this, request, parent, ...rest);
};

require.extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
