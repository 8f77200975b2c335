# syntax=docker/dockerfile:1
# NBP rate service image (`npm run nbp`): one per server, shared by every client container.
# Build from the repository root:  docker build -f docker/Dockerfile.nbp -t mai-nbp-service:1.0.0 .

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: production node_modules (the lock file installs better-sqlite3 too, hence the toolchain).
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps orphans (see docker/Dockerfile).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    PORT=8001

WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
# The service shares the rate code (rule, cache, NBP client) with the app.
COPY src ./src
COPY nbp ./nbp

USER node

EXPOSE 8001

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8001)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "nbp/main.ts"]
