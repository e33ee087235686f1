#!/usr/bin/env bash
# Install bootsmith's host dependencies on Debian 12 (root), its npm packages, and build it.
# Bash only to bootstrap: a fresh machine has node and npm but not zx, the npm package the setup
# itself (scripts/setup.mjs) is written with, so `npm ci` must run first.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --loglevel=error
exec node scripts/setup.mjs "$@"
