#!/bin/sh
# The suite's database migrations, run as their own step (compose: the `migrate` service; Kubernetes:
# the portcullis-migrate Job), never on every replica's start. Each app keeps its own migrations table,
# so both may share one database; give each its own URL to keep them apart.
set -eu
cd "$(dirname "$0")/.."

DATABASE_URL="${DEVICE_AUTH_DATABASE_URL:-${DATABASE_URL:-}}" node dist/apps/device-auth/src/migrate.js

# room-gateway's signaling tables: only where it has a database (signaling is optional).
RG_URL="${ROOM_GATEWAY_DATABASE_URL:-${DATABASE_URL:-}}"
if [ -n "$RG_URL" ]; then
  DATABASE_URL="$RG_URL" node dist/apps/room-gateway/src/database/migrate.js
fi
