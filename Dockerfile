# syntax=docker/dockerfile:1
# One image for the whole suite: the command picks the app (deploy/README.md).
#   node dist/apps/interface-proxy/src/main.js   (the default)
#   node dist/apps/bot-control/src/main.js
#   node dist/apps/device-auth/src/main.js
#   node dist/apps/room-gateway/src/main.js
#   sh deploy/migrate.sh                          (database migrations: a one-shot job, never on app start)
# No secret is baked in: every secret comes from the environment at run time.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: bot-control spawns bot processes, and an orphaned grandchild must still be reaped.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORTCULLIS_DATA_DIR=/data \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# bot-control's bundled bot worker (found by walking up from dist/).
COPY apps/bot-control/bot ./apps/bot-control/bot
COPY bin ./bin
COPY deploy/migrate.sh ./deploy/migrate.sh
RUN mkdir -p /data && chown 1000:1000 /data
# The image's own `node` user, by number so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 3000 3001 3002 3003
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/apps/interface-proxy/src/main.js"]
