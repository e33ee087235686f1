#!/usr/bin/env bash
# Install bootsmith's host dependencies on Debian 12 (root), its npm packages, and build it.
# Bash only to bootstrap: a fresh machine has node and npm but not zx, the npm package the setup
# itself (scripts/setup.mjs) is written with, so `npm ci` must run first.
set -euo pipefail
cd "$(dirname "$0")/.."
# npm ci deletes node_modules and installs it again (20–40 s): skip it when node_modules was
# installed by this script from this very lock file, with this Node.
installed=node_modules/.bootsmith-installed
wanted="$(node --version) $(sha256sum < package-lock.json)"
if [ "$(cat "$installed" 2>/dev/null)" != "$wanted" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$wanted" > "$installed"
fi
exec node scripts/setup.mjs "$@"
