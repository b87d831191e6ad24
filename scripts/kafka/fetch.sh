#!/usr/bin/env bash
# Fetches the jars of a single-node Kafka 4.x broker (pom.xml beside this script) from Maven Central into the
# cache directory, for start.sh.
#
#   scripts/kafka/fetch.sh [--force] [--quiet]
#
#   --force    fetch again even when the cache is complete
#   --quiet    print nothing when the cache is already complete
#
# The cache is $APIWARDEN_KAFKA_HOME/lib (default ~/.cache/apiwarden/kafka/lib). Idempotent: when the cache holds
# a complete fetch of the current pom.xml (lib/.fetched holds the pom's sha256) it does nothing, offline. Else it
# runs `mvn -B -q dependency:copy-dependencies -DincludeScope=runtime` in a temp dir beside the cache (Maven keeps
# its own copy in ~/.m2, so a second cache dir fills from there without the network) and moves the result into
# place, so an interrupted fetch never leaves a half-filled lib/ (Maven's output: fetch.log beside lib/). Concurrent runs wait for each other (flock).
# Needs Maven 3.6.3+ and Java 17+ on PATH. Prints `kafka jars: DIR (N jars, ...)` on stdout; on failure, the
# tail of Maven's output and a non-zero exit.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

FORCE=0
QUIET=0
while [ $# -gt 0 ]; do
  case "$1" in
  --force) FORCE=1; shift ;;
  --quiet) QUIET=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument $1 (see --help)" ;;
  esac
done

report() {
  local n
  n="$(find "$KAFKA_LIB" -maxdepth 1 -name '*.jar' | wc -l)"
  echo "kafka jars: $KAFKA_LIB ($n jars, $1)"
}

if [ "$FORCE" = 0 ] && jars_ready; then
  [ "$QUIET" = 1 ] || report "cached"
  exit 0
fi

command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH: Maven fetches the Kafka jars (apt-get install maven)"
need_java
mkdir -p "$KAFKA_HOME_DIR"

# One fetch at a time per cache; whoever waited finds the cache complete and stops there.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$KAFKA_HOME_DIR/.fetch.lock"
  flock -w 900 9 || die "timed out waiting for another fetch.sh (lock $KAFKA_HOME_DIR/.fetch.lock)"
  if [ "$FORCE" = 0 ] && jars_ready; then
    [ "$QUIET" = 1 ] || report "fetched by a concurrent run"
    exit 0
  fi
fi

work="$(mktemp -d "$KAFKA_HOME_DIR/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp "$KAFKA_SCRIPTS/pom.xml" "$work/pom.xml"
start=$SECONDS
mvn_log="$KAFKA_HOME_DIR/fetch.log"
if ! (cd "$work" && mvn -B -q -Dstyle.color=never -f pom.xml dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$work/lib") >"$mvn_log" 2>&1; then
  log_tail "$mvn_log" 30
  die "mvn dependency:copy-dependencies failed: could not fetch the Kafka jars from Maven Central (network? ~/.m2/settings.xml?)"
fi
compgen -G "$work/lib/kafka_2.13-*.jar" >/dev/null || die "mvn ran but no kafka_2.13 jar came out (see $KAFKA_SCRIPTS/pom.xml)"
pom_sum >"$work/lib/.fetched"
rm -rf "$KAFKA_LIB"
mv "$work/lib" "$KAFKA_LIB"
report "fetched in $((SECONDS - start)) s"
