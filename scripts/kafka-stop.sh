#!/usr/bin/env bash
# Stop the local Kafka broker started by scripts/kafka-start.sh from the same state dir:
# SIGTERM (controlled shutdown), wait up to KAFKA_STOP_TIMEOUT seconds, then SIGKILL.
# Removes the pid file. Exits 0 when nothing was running.
#
# Usage: scripts/kafka-stop.sh [--wipe]
#   --wipe (or KAFKA_WIPE=1)  also delete the state dir (topics, data, logs)
#
# Environment:
#   KAFKA_STATE_DIR     state dir (default <project root>/.kafka)
#   KAFKA_STOP_TIMEOUT  seconds to wait after SIGTERM before SIGKILL (default 30)
#   KAFKA_WIPE=1        same as --wipe
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
PROJECT_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
STATE_DIR="${KAFKA_STATE_DIR:-$PROJECT_ROOT/.kafka}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
WIPE="${KAFKA_WIPE:-0}"

log() { echo "[kafka-stop] $*" >&2; }

for arg in "$@"; do
  case "$arg" in
    --wipe) WIPE=1 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown argument: $arg (usage: kafka-stop.sh [--wipe])"; exit 2 ;;
  esac
done
[[ "$STOP_TIMEOUT" =~ ^[0-9]+$ ]] || { log "KAFKA_STOP_TIMEOUT must be a number"; exit 2; }

if [[ ! -d "$STATE_DIR" ]]; then
  log "no state dir $STATE_DIR: nothing running"
  exit 0
fi
STATE_DIR="$(cd "$STATE_DIR" && pwd -P)"
PID_FILE="$STATE_DIR/kafka.pid"
PROPS="$STATE_DIR/server.properties"

cmdline_of() {
  if [[ -r "/proc/$1/cmdline" ]]; then tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
  else ps -p "$1" -o args= 2>/dev/null || true; fi
}
# Only ever signal a kafka.Kafka process running this state dir's server.properties.
is_our_broker() {
  [[ "$1" =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null && [[ "$(cmdline_of "$1")" == *"kafka.Kafka $PROPS"* ]]
}

PIDS=()
if [[ -f "$PID_FILE" ]]; then
  pid="$(tr -cd '0-9' <"$PID_FILE" || true)"
  if is_our_broker "$pid"; then PIDS+=("$pid")
  else log "pid file is stale (pid ${pid:-?} is not our broker)"; fi
fi
# Also catch a broker of this state dir whose pid file was lost.
if command -v pgrep >/dev/null 2>&1; then
  for p in $(pgrep -f "kafka.Kafka $PROPS" 2>/dev/null || true); do
    if is_our_broker "$p" && [[ " ${PIDS[*]-} " != *" $p "* ]]; then PIDS+=("$p"); fi
  done
fi

if ((${#PIDS[@]} == 0)); then
  log "no broker running for $STATE_DIR"
else
  for pid in "${PIDS[@]}"; do
    log "stopping broker pid $pid (SIGTERM, up to ${STOP_TIMEOUT}s) ..."
    kill -TERM "$pid" 2>/dev/null || true
  done
  deadline=$((SECONDS + STOP_TIMEOUT))
  for pid in "${PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid still alive after ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if kill -0 "$pid" 2>/dev/null; then
      log "ERROR: pid $pid did not exit"
      exit 1
    fi
    log "broker pid $pid stopped"
  done
fi
rm -f "$PID_FILE"

if [[ "$WIPE" == "1" || "$WIPE" == "true" ]]; then
  case "$STATE_DIR" in
    /|"$HOME"|"$PROJECT_ROOT"|"$SCRIPT_DIR") log "refusing to wipe $STATE_DIR"; exit 1 ;;
  esac
  log "wiping state dir $STATE_DIR"
  rm -rf -- "$STATE_DIR"
fi
exit 0
