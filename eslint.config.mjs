// ESLint for the whole repository: typescript-eslint's recommended rules and React's hooks rules.
// Formatting is Prettier's (.prettierrc.json); import cycles, type-only ones included, are
// found by dpdm (`npm run lint`).
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The client's layers, lowest first: a file may import from its own layer and the ones below it,
 * never from one above (client/main.tsx, the entry, wires them all). `data` is the local database
 * and what the device keeps; `offline` signs in without the network; `stores` is the app's
 * shared state; `sync` moves records to and from the server; `ui` is the screen.
 */
const LAYERS = ['data', 'offline', 'stores', 'sync', 'ui'];
const layerRules = LAYERS.map((layer, i) => ({
  files: [`client/${layer}/**/*.{ts,tsx}`],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: LAYERS.slice(i + 1).map((above) => ({
          regex: `^\\.{1,2}/(.*/)?${above}/`,
          message: `client/${layer} is below client/${above}: imports run down the layers (${LAYERS.join(' < ')}).`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'data/', 'bench/results/', 'test-results/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  reactHooks.configs.flat.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      // `_name` marks a value left out on purpose (a destructured field dropped, an unused argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests read answers of unknown shape, malformed ones on purpose; typing each would only restate the assertion.
    files: ['test/**/*.ts', '**/*.test.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  ...layerRules.filter((rule) => rule.rules['no-restricted-imports'][1].patterns.length > 0),
  {
    // A migration is frozen history: its SQL is written out in it, never taken from code that
    // keeps changing, or an old migration would run differently on a new install.
    files: ['migrations/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(server|schemas)(/|$)',
              message: 'A migration never imports server or schema code: write its SQL out in the migration, as it is today.',
            },
          ],
        },
      ],
    },
  },
  {
    // Vite loads its config as CommonJS (the package has no "type": "module"): TypeScript's `import x = require()`.
    files: ['vite.config.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.cjs', 'jest.config.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
