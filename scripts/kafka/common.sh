# shellcheck shell=bash
# Shared by scripts/kafka/*.sh (sourced, not run). Sets KAFKA_SCRIPTS, KAFKA_HOME_DIR and KAFKA_LIB.
#
#   APIWARDEN_KAFKA_HOME   where the broker's jars are cached: $APIWARDEN_KAFKA_HOME/lib
#                          (default ~/.cache/apiwarden/kafka, or $XDG_CACHE_HOME/apiwarden/kafka)

KAFKA_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_HOME_DIR="${APIWARDEN_KAFKA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/apiwarden/kafka}"
KAFKA_LIB="$KAFKA_HOME_DIR/lib"
KAFKA_STAMP="$KAFKA_LIB/.fetched"

# die MESSAGE...: prints "NAME: MESSAGE" on stderr and exits 1.
die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# usage: prints the comment block at the top of the calling script (its documentation).
usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

# pom_sum: the checksum of pom.xml the cache is stamped with (a changed pom means a new fetch).
pom_sum() {
  sha256sum "$KAFKA_SCRIPTS/pom.xml" | cut -d' ' -f1
}

# jars_ready: true when KAFKA_LIB holds a complete fetch of the current pom.xml.
jars_ready() {
  [ -f "$KAFKA_STAMP" ] && [ "$(cat "$KAFKA_STAMP")" = "$(pom_sum)" ] \
    && compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" >/dev/null
}

# need_java: Java 17 or newer on PATH, or die.
need_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka 4.x needs Java 17+: apt-get install openjdk-17-jre-headless)"
  local v
  v="$(java -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')"
  case "$v" in
  1.* | 9* | 10* | 11* | 12* | 13* | 14* | 15* | 16*) die "Java $v found, Kafka 4.x needs Java 17+" ;;
  esac
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# pid_alive PID: true when the process exists (and is not a zombie).
pid_alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# broker_pid DATA_DIR: prints the pid from DATA_DIR/broker.pid when that process is alive and is the broker of
# DATA_DIR (its command line names DATA_DIR/server.properties: a recycled pid is not ours); else nothing.
broker_pid() {
  local dir="$1" pid
  [ -f "$dir/broker.pid" ] || return 0
  pid="$(cat "$dir/broker.pid")"
  pid_alive "$pid" || return 0
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF "$dir/server.properties" || return 0
  fi
  echo "$pid"
}

# log_tail FILE [N]: the last N (40) lines of FILE on stderr, framed.
log_tail() {
  local file="$1" n="${2:-40}"
  if [ -s "$file" ]; then
    echo "---- last $n lines of $file ----" >&2
    tail -n "$n" "$file" >&2
    echo "---- end of $file ----" >&2
  else
    echo "($file is empty or missing)" >&2
  fi
}
