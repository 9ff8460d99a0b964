#!/usr/bin/env bash
# vast.ai onstart script: Ollama with its models under /workspace, the model pulled only when the
# disk lacks it, and llm-proxy on an open port with client keys required, started in the
# background (the onstart hook must return). For the SSH-tunnel variant see tunnel.sh.
#
#   LLM_PROXY_API_KEYS=<key> bash /workspace/llm-proxy/deploy/vastai/onstart.sh [--dry-run]
set -euo pipefail

SCRIPT_NAME=vastai/onstart.sh
PLATFORM=vast.ai
SERVE_MODE=background
# shellcheck source-path=SCRIPTDIR source=../lib/serve.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
serve_main "$@"
