/**
 * Dependency rules for src/ (npm run lint runs them): no import cycles; src/domain stays pure (no adapters, no SDKs,
 * no Node I/O); the chat's card view models (src/views) are surface-neutral, built by src/chat and rendered by each
 * surface (src/cards for Teams' Adaptive Cards, src/slack for Block Kit), so one card model serves both surfaces.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle makes module start-up order matter and hides which module owns what.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'src/domain is business rules only: it imports nothing outside src/domain but the error catalog and small ' +
        'pure packages.',
      from: { path: '^src/domain/' },
      to: {
        pathNot: [
          '^src/domain/',
          '^src/errors\\.ts$',
          '^node_modules/(zod|yaml|jstat|shell-quote)/',
          '^(node:)?crypto$',
        ],
      },
    },
    {
      name: 'error-catalog-is-a-leaf',
      severity: 'error',
      comment: 'Every layer (src/domain included) imports the error catalog, so it imports nothing.',
      from: { path: '^src/errors\\.ts$' },
      to: {},
    },
    {
      name: 'views-are-surface-neutral',
      severity: 'error',
      comment:
        'src/views turns domain objects into card view models for every surface: it knows the domain and nothing ' +
        'about the chat, a surface or a renderer.',
      from: { path: '^src/views/' },
      to: { path: '^src/', pathNot: ['^src/views/', '^src/domain/'] },
    },
    {
      name: 'cards-only-render',
      severity: 'error',
      comment:
        'src/cards renders view models as Adaptive Cards: it depends on src/views (and the error catalog), never on ' +
        'the chat use cases or a surface that uses it.',
      from: { path: '^src/cards/' },
      to: { path: '^src/', pathNot: ['^src/cards/', '^src/views/', '^src/domain/', '^src/errors\\.ts$'] },
    },
    {
      name: 'chat-renders-nothing',
      severity: 'error',
      comment:
        'src/chat builds surface-neutral cards (src/views) and talks to surfaces through its port (chat/port.ts): ' +
        'it imports no renderer and no surface.',
      from: { path: '^src/chat/' },
      to: { path: '^src/(cards|teams|slack)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.json$' },
  },
};
