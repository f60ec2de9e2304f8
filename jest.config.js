/** Unit specs live beside the code; cross-app end-to-end tests in test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleNameMapper: {
    '^@portcullis/device-client$': '<rootDir>/libs/device-client/src',
    '^@portcullis/device-client/(.*)$': '<rootDir>/libs/device-client/src/$1',
    '^@portcullis/(auth|contracts|platform)$': '<rootDir>/libs/$1/src',
    '^@portcullis/(bot-control|device-auth|interface-proxy|room-gateway)$': '<rootDir>/apps/$1/src',
    '^@portcullis/(auth|contracts|platform)/(.*)$': '<rootDir>/libs/$1/src/$2',
  },
  // Generous: e2e files start real processes, and CI shares 2 cores between two test workers.
  testTimeout: 90000,
  maxWorkers: 2,
};
