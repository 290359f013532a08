#!/usr/bin/env bash
# The main job. Installs dependencies, builds, and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
for f in src/nwfilter/xml/*.xml; do
  ./build/tools/nwfilter validate "$f"
  ./build/tools/nwfilter format "$f"
done
