/** One jest run for every suite: unit tests beside the code, integration and end-to-end tests. */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } } }, module: { type: 'commonjs' } },
    ],
  },
  // @noble/hashes ships ES modules only (client/data/db.ts's hash outside a secure context), and so does
  // fhir-kit-client (the FHIR tests' health-system client, whose exports name no CommonJS entry):
  // both compiled like our code.
  transformIgnorePatterns: ['/node_modules/(?!(@noble/hashes|fhir-kit-client)/)'],
  moduleNameMapper: { '^fhir-kit-client$': '<rootDir>/node_modules/fhir-kit-client/dist/index.js' },
  testMatch: ['<rootDir>/**/*.test.ts', '<rootDir>/**/*.test.tsx'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  maxWorkers: 2,
  setupFiles: ['<rootDir>/test/support/quiet-rxdb.ts'],
  reporters: ['default', '<rootDir>/test/support/skipped-reporter.js'],
  testTimeout: 60000,
};
