#!/usr/bin/env bash
# Installs what codesim needs from Debian's packages (only what is missing) and the report's
# chart renderer from the npm registry, then configures a Release build in build/ and builds it. Used by both quick-start commands and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake
  libboost-graph-dev libboost-program-options-dev
  libyaml-cpp-dev libfmt-dev libeigen3-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenmpi-dev openmpi-bin
  chromium
)
# Chromium (headless) renders the HTML report in its test. Node.js and npm install the report's
# chart renderer (report/package.json); any Node.js 18 or newer does, Debian's if none is there.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# Peers the benchmarks and cross-check tests compare against; not needed by the codesim binary.
optional_packages=(libns3-dev libsimgrid-dev)

missing=()
for p in "${packages[@]}" "${optional_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "codesim setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
  # The optional peers may be absent from a mirror; their benchmarks are then skipped.
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${optional_packages[@]}" ||
    echo "codesim setup: optional packages not installed: ${optional_packages[*]}"
fi

# The report's chart renderer (vega, vega-lite, vega-embed at the versions report/package-lock.json
# pins), from the npm registry; codesim report inlines it into each report, which opens offline.
if [ ! -f report/node_modules/.package-lock.json ] ||
  [ report/package-lock.json -nt report/node_modules/.package-lock.json ]; then
  echo "codesim setup: installing the report's chart renderer (npm ci in report/)"
  npm ci --prefix report --no-audit --no-fund --loglevel=error
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$jobs"
