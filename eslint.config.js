import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Data flows down (STYLE.md): api → control → store; agent → core; server.ts composes replicas/. A layer may not import one above it.
// The agent may use the SDK (which imports only core): its HTTP transport sends requests and
// decodes errors exactly as the SDK does.
const layers = [
  { target: './src/core', from: ['./src/store', './src/blobs', './src/replicas', './src/control', './src/agent', './src/api', './src/cli', './src/sdk', './src/server.ts'] },
  // The blob store port and its adapters sit beside the store: on core, beneath the control plane.
  { target: './src/blobs', from: ['./src/store', './src/replicas', './src/control', './src/agent', './src/api', './src/cli', './src/sdk', './src/server.ts'] },
  { target: './src/store', from: ['./src/blobs', './src/replicas', './src/control', './src/agent', './src/api', './src/cli', './src/sdk', './src/server.ts'] },
  // Replica coordination (leader lock, signal bus, database clock) sits beside the store, on its
  // connection helpers; the control plane sees it only through the ports in core/replicas.ts.
  { target: './src/replicas', from: ['./src/control', './src/agent', './src/api', './src/cli', './src/sdk', './src/server.ts'] },
  { target: './src/control', from: ['./src/replicas', './src/agent', './src/api', './src/cli', './src/sdk', './src/server.ts'] },
  { target: './src/agent', from: ['./src/store', './src/blobs', './src/replicas', './src/control', './src/api', './src/cli', './src/server.ts'] },
  { target: './src/api', from: ['./src/replicas', './src/agent', './src/cli', './src/sdk', './src/server.ts'] },
  { target: './src/sdk', from: ['./src/store', './src/blobs', './src/replicas', './src/control', './src/agent', './src/api', './src/cli', './src/server.ts'] },
  // The dashboard is a client like any other: it reaches the server through the SDK only.
  { target: './dashboard', from: ['./src/store', './src/replicas', './src/control', './src/agent', './src/api', './src/cli', './src/server.ts'] },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'dashboard/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    // The TypeScript resolver maps `./x.js` imports to `x.ts`; without it both rules below see nothing.
    settings: {
      'import-x/resolver': { typescript: { project: './tsconfig.json' } },
      // no-cycle parses the files it follows; it must know .ts files are TypeScript.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true }],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layers }],
    },
  },
  {
    // The dashboard runs in the browser, with React's rules of hooks.
    files: ['dashboard/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: globals.browser },
    settings: {
      'import-x/resolver': { typescript: { project: './dashboard/tsconfig.json' } },
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/extensions': ['.ts', '.tsx', '.js'],
    },
    rules: { ...reactHooks.configs['recommended-latest'].rules, 'react-hooks/exhaustive-deps': 'error' },
  },
);
