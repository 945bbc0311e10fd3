# syntax=docker/dockerfile:1.7
# One image for every role: `docker run IMAGE start --role gateway|worker|bot|all`.
# Stages: deps (all packages, for the build) -> build (tsc into dist/) -> prod-deps (runtime
# packages only) -> runtime (slim, non-root, git + bubblewrap + python3 for the local sandbox).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no lifecycle script of a dependency runs at build time.
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM deps AS build
# The whole context (.dockerignore keeps out tests, docs, secrets and local state), so a source
# folder that is added or happens to be empty needs no change here.
COPY . .
# The same build as `npm run build` and `npm pack`: dist/ with every asset the compiled code reads
# (SQL migrations, prompt files) copied next to it (scripts/build.mjs).
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# git: host-side workspaces (clone, commit, push). bubblewrap: the local sandbox. python3: commands
# users commonly run in it; python3-seccomp builds its seccomp filter; e2fsprogs makes its disk quota
# image. tini: PID 1 that forwards SIGTERM and reaps sandbox children.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git bubblewrap python3 python3-seccomp e2fsprogs ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
# HOST=0.0.0.0: devbot listens on loopback unless told otherwise, which in a container is unreachable.
ENV NODE_ENV=production \
    DEVBOT_DATA_DIR=/var/lib/devbot \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# A fixed unprivileged uid so volume ownership is predictable across rebuilds.
RUN groupadd --system --gid 10001 devbot \
  && useradd --system --uid 10001 --gid devbot --home-dir /var/lib/devbot --shell /usr/sbin/nologin devbot \
  && mkdir -p /var/lib/devbot && chown devbot:devbot /var/lib/devbot && chmod 700 /var/lib/devbot
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
# bin/devbot.js runs dist/ here: the image has no tsconfig.json, so it is not a source checkout.
COPY --chown=root:root bin ./bin
USER devbot
VOLUME ["/var/lib/devbot"]
EXPOSE 3000
# Every role serves /healthz on PORT. Node's fetch, because the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/devbot.js"]
CMD ["start", "--role", "all"]
