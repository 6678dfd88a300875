# scripts/env.sh: environment shared by kalium's scripts (sourced, not run).
# Debian's emscripten needs Debian's node modules (acorn) on NODE_PATH when node comes from elsewhere,
# and EMSDK_PYTHON skips a slow python shim (about 1.4 s per emcc call).
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
export EMSDK_PYTHON=/usr/bin/python3
# Chromium for the browser tests: Debian's, never a downloaded one.
export KALIUM_CHROMIUM="${KALIUM_CHROMIUM:-/usr/bin/chromium}"
