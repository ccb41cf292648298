#!/usr/bin/env bash
# Quick start: set up, build, and estimate DeepSeek-V3 training on 2048 H800 GPUs, with its
# JSON result and its HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build/codesim train examples/deepseek-v3-h800-2048.yaml --json build/deepseek-v3-h800-2048.json \
  --report build/deepseek-v3-h800-2048.html "$@"
echo "JSON result: build/deepseek-v3-h800-2048.json"
echo "report:      build/deepseek-v3-h800-2048.html (opens offline in any browser)"
