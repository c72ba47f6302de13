# syntax=docker/dockerfile:1
# Chaos Negotiator: one Node process serving Teams (/api/messages), Slack (/slack/events), the CI intake, webhooks,
# /healthz and /metrics.
#
# Install scripts are skipped (--ignore-scripts), exactly what package.json's allowScripts allows: the only packages
# with install scripts are botbuilder-dialogs (post-install clean-up through npx), esbuild (dev only, binary check)
# and protobufjs (version notice), and none of them is needed to build or run.

ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# All dependencies, for the TypeScript build.
FROM base AS deps
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc, then the runtime assets kept next to the sources (card templates, SQL, prompts, ...) copied beside its output.
COPY scripts/copyAssets.mjs ./scripts/
RUN npm run build

# Production dependencies only.
FROM base AS prod-deps
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM base AS runtime
ENV NODE_ENV=production \
    CHAOS_MODE=production \
    HOST=0.0.0.0 \
    PORT=3978 \
    CHAOS_DATA_DIR=/app/.data
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node bin ./bin
# The embedded store (PGlite) writes here when DATABASE_URL is not set.
RUN mkdir -p /app/.data && chown node:node /app/.data
# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 3978
# Slim images have no curl: probe with Node's fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3978) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same V8 flags as `npm start` and `npm run dev` (docs/benchmarks-teams.md, "Current figures"): PGlite's
# WebAssembly stays on the baseline compiler (its optimised tier cost about 50 MB and no measurable CPU here), and the
# V8 heap grows by 40 % past its live size instead of waiting for hundreds of megabytes of garbage.
CMD ["node", "--liftoff-only", "--heap-growing-percent=40", "dist/main.js"]
