#!/usr/bin/env bash
# Laptop side of a vast.ai instance started with onstart.sh, without exposing a port: reach its
# Ollama through SSH. Either let llm-proxy run the tunnel (--print-config), or open it here.
set -euo pipefail

REMOTE_PORT="${REMOTE_PORT:-11434}"
LOCAL_PORT="${LOCAL_PORT:-11435}"
MODEL="${MODEL:-qwen3-coder:30b}"
FORMAT="${FORMAT:-ollama}"
BACKEND="${BACKEND:-vast-ai}"
IDENTITY_FILE="${IDENTITY_FILE:-}"

usage() {
  cat <<'EOF'
Usage: tunnel.sh [--dry-run] [--print-config] <user@host> <ssh-port>

  <user@host> <ssh-port>  from the instance's "Connect" dialog: ssh -p 12345 root@ssh5.vast.ai

  (default)       print an llm-proxy config for a backend at the tunnel's local end, then run
                  ssh -N -L 127.0.0.1:$LOCAL_PORT:127.0.0.1:$REMOTE_PORT in the foreground
                  (Ctrl-C closes the tunnel)
  --print-config  print an llm-proxy config whose backend declares `tunnel`: llm-proxy then
                  starts ssh itself, restarts it when it drops and shows it in `status`; exit
  --dry-run       print the ssh command instead of running it

Environment: REMOTE_PORT (11434, Ollama on the instance), LOCAL_PORT (11435), MODEL
(qwen3-coder:30b), FORMAT (ollama; or openai), BACKEND (vast-ai), IDENTITY_FILE (a private key).
Host keys are checked: an unknown host's key is recorded (StrictHostKeyChecking=accept-new), a
changed one stops ssh.
EOF
}

die() {
  printf 'tunnel.sh: %s\n' "$*" >&2
  exit 2
}

dry_run=0
print_config=0
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --print-config) print_config=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) positional+=("$1") ;;
  esac
  shift
done
[ "${#positional[@]}" -eq 2 ] || {
  usage >&2
  exit 2
}
destination="${positional[0]}"
ssh_port="${positional[1]}"
user="${destination%@*}"
host="${destination#*@}"

# They go into JSON and onto ssh's command line.
[[ "$destination" == *@* && "$user" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ && "$host" =~ ^[A-Za-z0-9][A-Za-z0-9.:-]*$ ]] ||
  die "expected <user@host>, e.g. root@ssh5.vast.ai (got '$destination')"
for port in "$ssh_port" "$REMOTE_PORT" "$LOCAL_PORT"; do
  [[ "$port" =~ ^[0-9]+$ ]] || die "ports must be numbers (got '$port')"
done
[[ "$MODEL" =~ ^[A-Za-z0-9._:/-]+$ ]] || die "MODEL must be a model name such as qwen3-coder:30b"
[[ "$BACKEND" =~ ^[A-Za-z0-9._-]+$ ]] || die "BACKEND must be a simple name"
case "$FORMAT" in ollama | openai | anthropic) ;; *) die "FORMAT must be ollama, openai or anthropic" ;; esac
case "$IDENTITY_FILE" in *\"* | *\\*) die "IDENTITY_FILE must not contain quotes or backslashes" ;; esac

backend_json() {
  printf '{\n  "backend": "%s",\n  "backends": {\n    "%s": {\n' "$BACKEND" "$BACKEND"
  printf '      "type": "vast-ai", "format": "%s", "model": "%s",\n' "$FORMAT" "$MODEL"
  printf '      %s\n    }\n  }\n}\n' "$1"
}

if [ "$print_config" = 1 ]; then
  identity=""
  [ -z "$IDENTITY_FILE" ] || identity=", \"identityFile\": \"$IDENTITY_FILE\""
  backend_json "$(printf '"tunnel": { "host": "%s", "port": %s, "user": "%s", "remotePort": %s, "localPort": %s%s }' \
    "$host" "$ssh_port" "$user" "$REMOTE_PORT" "$LOCAL_PORT" "$identity")"
  exit 0
fi

command=(ssh -N -L "127.0.0.1:$LOCAL_PORT:127.0.0.1:$REMOTE_PORT" -p "$ssh_port")
[ -z "$IDENTITY_FILE" ] || command+=(-i "$IDENTITY_FILE" -o IdentitiesOnly=yes)
command+=(-o ExitOnForwardFailure=yes -o ServerAliveInterval=15 -o ServerAliveCountMax=3)
command+=(-o StrictHostKeyChecking=accept-new "$user@$host")

printf '# llm-proxy config (e.g. .llmrc.json) for the tunnel below:\n'
backend_json "\"url\": \"http://127.0.0.1:$LOCAL_PORT\""
if [ "$dry_run" = 1 ]; then printf 'would run:'; else printf '+'; fi
printf ' %q' "${command[@]}"
printf '\n'
[ "$dry_run" = 1 ] || exec "${command[@]}"
