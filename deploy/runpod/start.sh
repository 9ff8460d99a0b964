#!/usr/bin/env bash
# RunPod pod start command: Ollama with its models on the network volume (/workspace), the
# model pulled only when the volume lacks it, and llm-proxy on the exposed HTTP port with client
# keys required. Stays in the foreground (llm-proxy replaces it). See deploy/README.md.
#
#   LLM_PROXY_API_KEYS=<key> bash /workspace/llm-proxy/deploy/runpod/start.sh [--dry-run]
set -euo pipefail

SCRIPT_NAME=runpod/start.sh
PLATFORM=RunPod
SERVE_MODE=foreground
# shellcheck source-path=SCRIPTDIR source=../lib/serve.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
serve_main "$@"
