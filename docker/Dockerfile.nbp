# syntax=docker/dockerfile:1
# NBP rate service image (`npm run nbp`): one per server, shared by every client container,
# running the compiled build (dist/nbp.js). Build from the repository root:
#   docker build -f docker/Dockerfile.nbp -t mai-nbp-service:1.0.0 .
# The build and deps stages are the app image's (docker/Dockerfile), word for word, so a
# builder that has built one image reuses their layers for the other.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: every dependency (dev included) compiles src/ to dist/. The bundler needs no native
# module, so install scripts (and `prepare`, which would build before the sources are copied) are
# skipped here; the build runs explicitly once the sources are in.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# ---- deps: the production node_modules. better-sqlite3 is native and compiles here from source
# against the base image's own Node headers (no download), so the compiler lives in this stage only.
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` needs the dev toolchain, which a production install leaves out.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm_config_nodedir=/usr/local npm_config_build_from_source=true npm rebuild better-sqlite3 \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()" \
 && npm cache clean --force

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps orphans (see docker/Dockerfile).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# The memory settings of `npm start`: two malloc arenas (not eight per core), memory handed back
# to the system sooner, and a small young generation (docs/benchmarks.md has the RSS figures).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=131072 \
    PORT=8001

WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./

# The base image's unprivileged user (uid 1000); the service keeps its cache in memory.
USER node

EXPOSE 8001

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8001)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-semi-space-size=2", "--max-old-space-size=128", "--v8-pool-size=1", "--no-maglev", "dist/nbp.js"]
