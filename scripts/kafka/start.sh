#!/usr/bin/env bash
# Starts a single-node Kafka 4.x broker (KRaft: broker + controller in one JVM) in the background, on loopback,
# and waits until it serves clients.
#
#   scripts/kafka/start.sh [--data-dir DIR] [--port PORT|auto] [--controller-port PORT|auto] [--host HOST]
#                          [--timeout SECONDS] [--watch-pid PID]
#
#   --data-dir DIR          everything of this broker (default ~/.cache/apiwarden/kafka/data; env KAFKA_DATA_DIR):
#                             DIR/server.properties  written from server.properties.template
#                             DIR/logs/              the broker's log.dirs (topics, metadata log, meta.properties)
#                             DIR/broker.log         the broker's own log (stderr, log4j2.properties), appended
#                             DIR/broker.pid         the broker's pid (stop.sh reads it)
#                             DIR/cluster.id         the cluster id DIR/logs was formatted with
#   --port PORT|auto        the clients' (PLAINTEXT) port (default 9092; env KAFKA_PORT); auto: a free one
#   --controller-port P|auto  the KRaft controller's port (default 9093; env KAFKA_CONTROLLER_PORT)
#   --host HOST             the address both listen on and advertise (default 127.0.0.1; env KAFKA_HOST)
#   --timeout SECONDS       how long to wait for the broker (default 90; env KAFKA_START_TIMEOUT)
#   --watch-pid PID         stop the broker when process PID ends (a test runner: no broker outlives it; env
#                           KAFKA_WATCH_PID). A watchdog subshell polls every second and sends SIGTERM, then
#                           SIGKILL after 10 s.
#
# A new DIR (no DIR/logs/meta.properties) is formatted first with a fresh cluster id (`kafka.tools.StorageTool
# format --standalone`). An already formatted DIR is a restart: its data is kept and, unless given, the ports of
# DIR/server.properties are used again; the controller port cannot change then (the standalone voter set stored
# in the metadata log names it). Fails when DIR's broker is already running or a port is taken.
#
# Ready means: the client port accepts connections and the log says "Kafka Server started" (the broker has caught
# up with the metadata log and is unfenced). If the broker exits or is not ready in time, the tail of its log is
# printed on stderr, a broker still running is killed, and the exit is non-zero.
#
# On success prints on stdout, one `key=value` a line: bootstrap, controller, pid, data_dir, log, cluster_id,
# formatted (1 when DIR was formatted now), start_ms (from launching the JVM to ready).
#
# JVM options: KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m), KAFKA_JVM_OPTS (default G1, headless, exit on OOM).
# Jars: $APIWARDEN_KAFKA_HOME/lib, fetched by fetch.sh (run first if the cache is not complete).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

DIR="${KAFKA_DATA_DIR:-$KAFKA_HOME_DIR/data}"
PORT="${KAFKA_PORT:-}"
CPORT="${KAFKA_CONTROLLER_PORT:-}"
HOST="${KAFKA_HOST:-127.0.0.1}"
TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
WATCH="${KAFKA_WATCH_PID:-}"
while [ $# -gt 0 ]; do
  case "$1" in
  --data-dir) DIR="${2:?--data-dir needs a directory}"; shift 2 ;;
  --port) PORT="${2:?--port needs a number or auto}"; shift 2 ;;
  --controller-port) CPORT="${2:?--controller-port needs a number or auto}"; shift 2 ;;
  --host) HOST="${2:?--host needs an address}"; shift 2 ;;
  --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
  --watch-pid) WATCH="${2:?--watch-pid needs a pid}"; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument $1 (see --help)" ;;
  esac
done
case "$TIMEOUT" in '' | *[!0-9]*) die "--timeout must be whole seconds, not '$TIMEOUT'" ;; esac
if [ -n "$WATCH" ]; then
  pid_alive "$WATCH" || die "--watch-pid $WATCH: no such process"
fi

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
CONFIG="$DIR/server.properties"
LOG="$DIR/broker.log"
FORMATTED=0
[ -f "$DIR/logs/meta.properties" ] && FORMATTED=1

running="$(broker_pid "$DIR")"
[ -z "$running" ] || die "a broker of $DIR is already running (pid $running): scripts/kafka/stop.sh --data-dir $DIR"
rm -f "$DIR/broker.pid"

# config_value KEY: KEY's value in an existing DIR/server.properties.
config_value() {
  sed -n "s/^$1=//p" "$CONFIG" 2>/dev/null | tail -n 1
}

# free_port: a TCP port nobody listens on, from the ephemeral-free range 20000-32767.
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + (RANDOM % 12768)))
    if ! port_open "$HOST" "$p" && [ "$p" != "${PORT:-}" ] && [ "$p" != "${CPORT:-}" ]; then
      echo "$p"
      return 0
    fi
    : "$i"
  done
  die "found no free port"
}

if [ "$FORMATTED" = 1 ] && [ -f "$CONFIG" ]; then
  old_cport="$(config_value controller.quorum.bootstrap.servers)"
  old_cport="${old_cport##*:}"
  old_port="$(config_value listeners)"
  old_port="${old_port%%,*}"
  old_port="${old_port##*:}"
  [ -n "$PORT" ] || PORT="$old_port"
  [ -n "$CPORT" ] || CPORT="$old_cport"
  [ "$CPORT" = "$old_cport" ] \
    || die "$DIR is formatted with controller port $old_cport: it cannot change to $CPORT (use a new data dir)"
fi
PORT="${PORT:-9092}"
CPORT="${CPORT:-9093}"
[ "$PORT" = auto ] && PORT="$(free_port)"
[ "$CPORT" = auto ] && CPORT="$(free_port)"
for p in "$PORT" "$CPORT"; do
  case "$p" in '' | *[!0-9]*) die "a port must be a number or auto, not '$p'" ;; esac
done
[ "$PORT" != "$CPORT" ] || die "the client and controller ports must differ (both $PORT)"
# port_taken PORT: true when PORT still accepts connections after 5 s (a broker killed just now frees it late).
port_taken() {
  local _
  for _ in $(seq 1 25); do
    port_open "$HOST" "$1" || return 1
    sleep 0.2
  done
}
if port_taken "$PORT"; then die "port $HOST:$PORT is taken (choose --port, or auto)"; fi
if port_taken "$CPORT"; then die "port $HOST:$CPORT is taken (choose --controller-port, or auto)"; fi

"$KAFKA_SCRIPTS/fetch.sh" --quiet || die "the Kafka jars are not available (fetch.sh failed)"
need_java

sed -e "s|@HOST@|$HOST|g" -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CPORT|g" -e "s|@LOG_DIRS@|$DIR/logs|g" \
  "$KAFKA_SCRIPTS/server.properties.template" >"$CONFIG"

LOG4J="-Dlog4j2.configurationFile=$KAFKA_SCRIPTS/log4j2.properties"
CP="$KAFKA_LIB/*"

if [ "$FORMATTED" = 0 ]; then
  # A Kafka Uuid: 16 random bytes, base64url without padding; Kafka never hands out one starting with '-'.
  cid="-"
  while [ "${cid:0:1}" = "-" ]; do
    cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  if ! java "$LOG4J" -cp "$CP" kafka.tools.StorageTool format --standalone --ignore-formatted \
    --cluster-id "$cid" --config "$CONFIG" >"$DIR/format.log" 2>&1; then
    log_tail "$DIR/format.log"
    die "formatting $DIR/logs failed (kafka.tools.StorageTool format)"
  fi
  echo "$cid" >"$DIR/cluster.id"
fi

read -r -a heap_opts <<<"${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
read -r -a jvm_opts <<<"${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}"

log_start=0
[ -f "$LOG" ] && log_start="$(wc -c <"$LOG")"
echo "[$(date -u +%FT%TZ)] start.sh: starting the broker on $HOST:$PORT (controller $CPORT)" >>"$LOG"
t0="$(date +%s%N)"
java "${heap_opts[@]}" "${jvm_opts[@]}" "$LOG4J" -cp "$CP" kafka.Kafka "$CONFIG" >>"$LOG" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$DIR/broker.pid"

if [ -n "$WATCH" ]; then
  (
    while pid_alive "$WATCH" && pid_alive "$pid"; do sleep 1; done
    if pid_alive "$pid"; then
      echo "[$(date -u +%FT%TZ)] start.sh: process $WATCH ended: stopping the broker" >>"$LOG"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do pid_alive "$pid" || exit 0; sleep 0.5; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  ) >/dev/null 2>&1 </dev/null &
fi

# started: the log has "Kafka Server started" after this start's first byte.
started() {
  tail -c +"$((log_start + 1))" "$LOG" | grep -q 'Kafka Server started'
}

deadline=$((SECONDS + TIMEOUT))
while :; do
  if ! pid_alive "$pid"; then
    log_tail "$LOG"
    rm -f "$DIR/broker.pid"
    die "the broker exited during startup (see $LOG)"
  fi
  if port_open "$HOST" "$PORT" && started; then
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    log_tail "$LOG"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DIR/broker.pid"
    die "the broker was not ready on $HOST:$PORT within $TIMEOUT s (killed it; see $LOG)"
  fi
  sleep 0.2
done
t1="$(date +%s%N)"

echo "bootstrap=$HOST:$PORT"
echo "controller=$HOST:$CPORT"
echo "pid=$pid"
echo "data_dir=$DIR"
echo "log=$LOG"
echo "cluster_id=$(cat "$DIR/cluster.id" 2>/dev/null || true)"
echo "formatted=$((1 - FORMATTED))"
echo "start_ms=$(((t1 - t0) / 1000000))"
