#!/usr/bin/env bash
# Stops the broker that start.sh started on a data dir: SIGTERM (a controlled shutdown), then SIGKILL if it is
# still running after the timeout.
#
#   scripts/kafka/stop.sh [--data-dir DIR] [--timeout SECONDS] [--kill]
#
#   --data-dir DIR      the broker's data dir (default ~/.cache/apiwarden/kafka/data; env KAFKA_DATA_DIR)
#   --timeout SECONDS   how long to wait after SIGTERM before SIGKILL (default 30; env KAFKA_STOP_TIMEOUT)
#   --kill              SIGKILL at once: a crash, for fault tests (the next start recovers the logs)
#
# The pid comes from DIR/broker.pid and is only signalled while that process's command line names
# DIR/server.properties (never a recycled pid). Keeps DIR (a later start.sh on it is a restart: same data, same
# ports); remove it yourself. Exits 0 when no broker of DIR is running. Prints `stopped pid N (how, ms)`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

DIR="${KAFKA_DATA_DIR:-$KAFKA_HOME_DIR/data}"
TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KILL=0
while [ $# -gt 0 ]; do
  case "$1" in
  --data-dir) DIR="${2:?--data-dir needs a directory}"; shift 2 ;;
  --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
  --kill) KILL=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument $1 (see --help)" ;;
  esac
done
case "$TIMEOUT" in '' | *[!0-9]*) die "--timeout must be whole seconds, not '$TIMEOUT'" ;; esac
[ -d "$DIR" ] || { echo "no broker: $DIR does not exist"; exit 0; }
DIR="$(cd "$DIR" && pwd)"

pid="$(broker_pid "$DIR")"
if [ -z "$pid" ]; then
  rm -f "$DIR/broker.pid"
  echo "no broker of $DIR is running"
  exit 0
fi

# wait_gone SECONDS: true when the broker has exited within SECONDS.
wait_gone() {
  local deadline=$((SECONDS + $1))
  while pid_alive "$pid"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

t0="$(date +%s%N)"
how="SIGTERM"
if [ "$KILL" = 1 ]; then
  how="SIGKILL"
  echo "[$(date -u +%FT%TZ)] stop.sh: SIGKILL" >>"$DIR/broker.log"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone 30 || die "pid $pid survived SIGKILL for 30 s"
else
  echo "[$(date -u +%FT%TZ)] stop.sh: SIGTERM" >>"$DIR/broker.log"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$TIMEOUT"; then
    how="SIGTERM, then SIGKILL after $TIMEOUT s"
    echo "[$(date -u +%FT%TZ)] stop.sh: still running after $TIMEOUT s: SIGKILL" >>"$DIR/broker.log"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone 30 || die "pid $pid survived SIGKILL for 30 s"
  fi
fi
rm -f "$DIR/broker.pid"
# A killed JVM's group leader can be reaped before its last thread has closed the sockets: wait for the ports, so
# that a start.sh right after this finds them free.
for addr in $(sed -n 's/^listeners=//p' "$DIR/server.properties" 2>/dev/null | tr ',' ' '); do
  hostport="${addr#*://}"
  for _ in $(seq 1 100); do
    port_open "${hostport%:*}" "${hostport##*:}" || break
    sleep 0.1
  done
done
echo "stopped pid $pid ($how, $((($(date +%s%N) - t0) / 1000000)) ms)"
