# shellcheck shell=bash
# Shared by deploy/runpod/start.sh and deploy/vastai/onstart.sh (which set SCRIPT_NAME, PLATFORM
# and SERVE_MODE, source this file and call serve_main "$@"): Ollama with its models on the
# persistent volume, then llm-proxy in front of it on an exposed port, client keys required.
# Every step checks first, so running it again (a restarted pod) only does what is missing.

SCRIPT_NAME="${SCRIPT_NAME:-serve.sh}"
PLATFORM="${PLATFORM:-a GPU server}"
# foreground: llm-proxy replaces this script (a container's start command); background: it is
# started detached and the script exits (an onstart hook).
SERVE_MODE="${SERVE_MODE:-foreground}"

WORKSPACE="${WORKSPACE:-/workspace}"
MODEL="${MODEL:-qwen3-coder:30b}"
PORT="${PORT:-8000}"
OLLAMA_PORT="${OLLAMA_PORT:-11434}"
# Ollama's default context truncates Claude Code's prompts; this applies to clients of its /v1 too.
CONTEXT_LENGTH="${CONTEXT_LENGTH:-65536}"
# Unloading after Ollama's default 5 idle minutes makes the next request wait for a reload.
KEEP_ALIVE="${KEEP_ALIVE:-24h}"
NODE_VERSION="${NODE_VERSION:-22.12.0}"
LLM_PROXY_PACKAGE="${LLM_PROXY_PACKAGE:-@jleechan/llm-proxy-server}"

DRY_RUN=0
OLLAMA_MODELS="$WORKSPACE/ollama/models"
PROXY_DIR="$WORKSPACE/llm-proxy"
NPM_PREFIX="$PROXY_DIR/npm"
NODE_DIR="$PROXY_DIR/node"
CONFIG_FILE="$PROXY_DIR/config.json"
export OLLAMA_HOST="127.0.0.1:$OLLAMA_PORT"
# Installed on the volume, so a restarted pod finds them again.
export PATH="$NPM_PREFIX/bin:$NODE_DIR/bin:$PATH"

say() { printf '[%s] %s\n' "$SCRIPT_NAME" "$*"; }
die() {
  printf '[%s] error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit 1
}

quoted() {
  local word out=()
  for word in "$@"; do out+=("$(printf '%q' "$word")"); done
  printf '%s' "${out[*]}"
}

# Prints the command, then runs it (with --dry-run: only prints it).
run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf 'would run: %s\n' "$(quoted "$@")"
    return 0
  fi
  printf '+ %s\n' "$(quoted "$@")"
  "$@"
}

# The same for a shell pipeline given as one string.
run_sh() {
  if [ "$DRY_RUN" = 1 ]; then
    printf 'would run: %s\n' "$1"
    return 0
  fi
  printf '+ %s\n' "$1"
  bash -c "set -euo pipefail; $1"
}

# run_bg LOG COMMAND...: starts COMMAND in the background, detached, appending to LOG.
run_bg() {
  local log="$1"
  shift
  if [ "$DRY_RUN" = 1 ]; then
    printf 'would start in the background: %s >> %s\n' "$(quoted "$@")" "$log"
    return 0
  fi
  printf '+ %s >> %s &\n' "$(quoted "$@")" "$log"
  nohup "$@" >>"$log" 2>&1 </dev/null &
  # A job that already exited (a fast failure) cannot be disowned; that is no reason to stop here.
  disown "$!" 2>/dev/null || true
}

usage() {
  cat <<EOF
Usage: $SCRIPT_NAME [--dry-run]

Starts Ollama (models in \$WORKSPACE/ollama/models), pulls \$MODEL if the volume lacks it, and
runs llm-proxy on 0.0.0.0:\$PORT in front of it. Requires LLM_PROXY_API_KEYS (client keys,
comma-separated): the port is reachable from the internet.

  --dry-run   print every action instead of doing it

Environment: WORKSPACE (/workspace), MODEL (qwen3-coder:30b), PORT (8000), OLLAMA_PORT (11434),
CONTEXT_LENGTH (65536), KEEP_ALIVE (24h), NODE_VERSION (22.12.0), LLM_PROXY_PACKAGE (@jleechan/llm-proxy-server).
EOF
}

check_settings() {
  [ -n "${LLM_PROXY_API_KEYS:-}" ] ||
    die "LLM_PROXY_API_KEYS is not set. The proxy listens on 0.0.0.0:$PORT, where anyone who finds it could use your GPU: set one or more client keys (comma-separated), e.g. LLM_PROXY_API_KEYS=\$(openssl rand -hex 24), and give Claude Code the same key as ANTHROPIC_API_KEY"
  [[ "$MODEL" =~ ^[A-Za-z0-9._:/-]+$ ]] || die "MODEL must be an Ollama model name such as qwen3-coder:30b (got '$MODEL')"
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT must be a number (got '$PORT')"
  [[ "$OLLAMA_PORT" =~ ^[0-9]+$ ]] || die "OLLAMA_PORT must be a number (got '$OLLAMA_PORT')"
  [[ "$LLM_PROXY_PACKAGE" != llm-proxy && "$LLM_PROXY_PACKAGE" != llm-proxy@* ]] ||
    die "LLM_PROXY_PACKAGE=$LLM_PROXY_PACKAGE is an unrelated npm package; this proxy is @jleechan/llm-proxy-server (e.g. LLM_PROXY_PACKAGE=@jleechan/llm-proxy-server@0.1.0)"
}

ensure_dir() {
  [ -d "$1" ] || run mkdir -p "$1"
}

ensure_ollama() {
  if command -v ollama >/dev/null 2>&1; then
    say "ollama is installed: $(command -v ollama)"
  else
    run_sh 'curl -fsSL https://ollama.com/install.sh | sh'
  fi
}

ollama_answers() {
  ollama list >/dev/null 2>&1
}

ensure_ollama_serving() {
  if ollama_answers; then
    say "ollama already serves on $OLLAMA_HOST"
    return 0
  fi
  run_bg "$WORKSPACE/ollama/serve.log" env "OLLAMA_MODELS=$OLLAMA_MODELS" "OLLAMA_HOST=$OLLAMA_HOST" \
    "OLLAMA_CONTEXT_LENGTH=$CONTEXT_LENGTH" "OLLAMA_KEEP_ALIVE=$KEEP_ALIVE" ollama serve
  if [ "$DRY_RUN" = 1 ]; then
    say "would wait up to 60 s for ollama to answer on $OLLAMA_HOST"
    return 0
  fi
  local _
  for _ in $(seq 120); do
    ollama_answers && return 0
    sleep 0.5
  done
  die "ollama did not answer on $OLLAMA_HOST within 60 s; see $WORKSPACE/ollama/serve.log"
}

# Where Ollama keeps a model's manifest: qwen3-coder:30b -> registry.ollama.ai/library/qwen3-coder/30b.
manifest_path() {
  local name="${1%:*}" tag="latest"
  if [[ "$1" == *:* ]]; then tag="${1##*:}"; fi
  case "$name" in
    */*/*) ;;
    */*) name="registry.ollama.ai/$name" ;;
    *) name="registry.ollama.ai/library/$name" ;;
  esac
  printf '%s/manifests/%s/%s' "$OLLAMA_MODELS" "$name" "$tag"
}

# Asks `ollama list`; while no server answers (a dry run), looks for the manifest on the volume.
model_present() {
  local want="$MODEL" list
  [[ "$want" == *:* ]] || want="$want:latest"
  if list="$(ollama list 2>/dev/null)"; then
    awk -v want="$want" 'NR > 1 && $1 == want { found = 1 } END { exit !found }' <<<"$list"
  else
    [ -f "$(manifest_path "$MODEL")" ]
  fi
}

ensure_model() {
  if model_present; then
    say "model $MODEL is already on the volume; not pulling"
  else
    run ollama pull "$MODEL"
  fi
}

node_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) printf 'x64' ;;
    aarch64 | arm64) printf 'arm64' ;;
    *) die "no Node.js build for $(uname -m); install Node.js >= 20.19 and npm, then run again" ;;
  esac
}

ensure_llm_proxy() {
  # Older versions of these scripts installed `llm-proxy` from npm, an unrelated package.
  local stale="$NPM_PREFIX/lib/node_modules/llm-proxy/package.json"
  if [ ! -f "$stale" ] && command -v llm-proxy >/dev/null 2>&1; then
    say "llm-proxy is installed: $(command -v llm-proxy)"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    local tarball
    tarball="https://nodejs.org/dist/v$NODE_VERSION/node-v$NODE_VERSION-linux-$(node_arch).tar.gz"
    ensure_dir "$NODE_DIR"
    run_sh "curl -fsSL $tarball | tar -xz -C $NODE_DIR --strip-components=1"
  fi
  if [ -f "$stale" ]; then
    say "$NPM_PREFIX holds the npm package llm-proxy, which is not this proxy; replacing it with $LLM_PROXY_PACKAGE"
    run npm uninstall -g --no-audit --no-fund --prefix "$NPM_PREFIX" llm-proxy
  fi
  run npm install -g --no-audit --no-fund --prefix "$NPM_PREFIX" "$LLM_PROXY_PACKAGE"
}

# No keys in the file: llm-proxy reads LLM_PROXY_API_KEYS from its environment, so they never
# land on the volume.
config_json() {
  cat <<EOF
{
  "backend": "ollama",
  "port": $PORT,
  "backends": {
    "ollama": { "type": "ollama", "url": "http://$OLLAMA_HOST", "model": "$MODEL" }
  }
}
EOF
}

ensure_config() {
  local wanted
  wanted="$(config_json)"
  if [ -f "$CONFIG_FILE" ] && [ "$(cat "$CONFIG_FILE")" = "$wanted" ]; then
    say "config $CONFIG_FILE is up to date"
    return 0
  fi
  if [ "$DRY_RUN" = 1 ]; then
    printf 'would write %s (mode 0600):\n%s\n' "$CONFIG_FILE" "$wanted"
    return 0
  fi
  printf '+ write %s\n' "$CONFIG_FILE"
  (umask 077 && printf '%s\n' "$wanted" >"$CONFIG_FILE.tmp")
  mv "$CONFIG_FILE.tmp" "$CONFIG_FILE"
}

proxy_answers() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/health" 2>/dev/null || true)"
  [ -n "$code" ] && [ "$code" != 000 ]
}

public_url() {
  local mapped="VAST_TCP_PORT_$PORT"
  if [ -n "${RUNPOD_POD_ID:-}" ]; then
    printf 'https://%s-%s.proxy.runpod.net' "$RUNPOD_POD_ID" "$PORT"
  elif [ -n "${PUBLIC_IPADDR:-}" ] && [ -n "${!mapped:-}" ]; then
    printf 'http://%s:%s' "$PUBLIC_IPADDR" "${!mapped}"
  else
    printf 'http://<public address>:%s' "$PORT"
  fi
}

start_proxy() {
  local command=(llm-proxy start --config "$CONFIG_FILE" --host 0.0.0.0 --port "$PORT")
  if proxy_answers; then
    say "llm-proxy already answers on port $PORT"
    return 0
  fi
  say "clients: ANTHROPIC_BASE_URL=$(public_url) ANTHROPIC_API_KEY=<one of LLM_PROXY_API_KEYS>"
  if [ "$SERVE_MODE" = background ]; then
    run_bg "$PROXY_DIR/proxy.log" "${command[@]}"
  elif [ "$DRY_RUN" = 1 ]; then
    printf 'would run: %s\n' "$(quoted "${command[@]}")"
  else
    printf '+ exec %s\n' "$(quoted "${command[@]}")"
    exec "${command[@]}"
  fi
}

serve_main() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dry-run) DRY_RUN=1 ;;
      -h | --help)
        usage
        return 0
        ;;
      *)
        usage >&2
        die "unknown argument: $1"
        ;;
    esac
    shift
  done
  check_settings
  if [ "$DRY_RUN" = 1 ]; then say "dry run on $PLATFORM: printing every action, changing nothing"; fi
  ensure_dir "$OLLAMA_MODELS"
  ensure_dir "$PROXY_DIR"
  ensure_ollama
  ensure_ollama_serving
  ensure_model
  ensure_llm_proxy
  ensure_config
  start_proxy
}
