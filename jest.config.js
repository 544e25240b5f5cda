// Unit tests run anywhere; integration tests get a real Temporal dev server and a fresh Postgres
// database from test/support/globalSetup (started once per run, torn down at the end).
const tsJest = ['ts-jest', { isolatedModules: true, tsconfig: { module: 'commonjs', moduleResolution: 'node' } }];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/support/globalSetup.ts',
      globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
      testTimeout: 120000,
    },
  ],
};
