#!/usr/bin/env bash
# Restarts the broker of a data dir: stop.sh, an optional pause, then start.sh on the same dir (same data, same
# ports). For fault tests: a clean restart, or a crash (--kill) and recovery, or an outage of a given length.
#
#   scripts/kafka/restart.sh [--data-dir DIR] [--kill] [--stop-timeout SECONDS] [--down SECONDS]
#                            [start.sh options: --timeout S, --watch-pid PID, ...]
#
#   --data-dir DIR          the broker's data dir (default ~/.cache/apiwarden/kafka/data; env KAFKA_DATA_DIR)
#   --kill                  stop with SIGKILL (a crash) instead of SIGTERM
#   --stop-timeout SECONDS  stop.sh's --timeout (SIGTERM to SIGKILL; default 30)
#   --down SECONDS          stay down that long (fractions allowed) before starting again (default 0)
#
# Works on a stopped broker too (then it only starts). Prints stop.sh's line, then start.sh's key=value lines.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

DIR="${KAFKA_DATA_DIR:-$KAFKA_HOME_DIR/data}"
stop_args=()
start_args=()
DOWN=0
while [ $# -gt 0 ]; do
  case "$1" in
  --data-dir) DIR="${2:?--data-dir needs a directory}"; shift 2 ;;
  --kill) stop_args+=(--kill); shift ;;
  --stop-timeout) stop_args+=(--timeout "${2:?--stop-timeout needs seconds}"); shift 2 ;;
  --down) DOWN="${2:?--down needs seconds}"; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) start_args+=("$1"); shift ;;
  esac
done
[ -f "$DIR/server.properties" ] || die "$DIR has no server.properties: start it with start.sh first"

"$KAFKA_SCRIPTS/stop.sh" --data-dir "$DIR" "${stop_args[@]}"
[ "$DOWN" = 0 ] || sleep "$DOWN"
exec "$KAFKA_SCRIPTS/start.sh" --data-dir "$DIR" "${start_args[@]}"
