#!/usr/bin/env bash
# Replays an nginx access log (combined format) through CrowdSec, offline, and dumps its alerts as JSON.
#
#   scripts/crowdsec/replay.sh [--dir DIR] [--port PORT] [--routines N] ACCESS_LOG
#
# Built for the Debian `crowdsec` package (1.4.6 in bookworm: `apt-get install crowdsec`). Nothing under
# /etc/crowdsec or /var/lib/crowdsec is used or changed: everything lives in DIR (default: a new temp dir):
#
#   DIR/etc/config.yaml      CrowdSec configuration: no Central API (no online_client, -no-capi), local API on
#                            127.0.0.1:PORT only, prometheus off, sqlite database in DIR/data/crowdsec.db
#   DIR/etc/{parsers,scenarios,collections}/   enabled hub items: symlinks into DIR/hub
#   DIR/hub/                 symlinks to the hub snapshot the Debian package ships (/usr/share/crowdsec/hub)
#   DIR/data/                the scenarios' data files (copied from /usr/share/crowdsec/data) and the database
#   DIR/log/                 agent.stdout (the time-machine agent logs to stdout), lapi/crowdsec*.log (local API)
#   DIR/alerts.json          `cscli alerts list -o json --limit 0` after the replay
#   DIR/replay.json          {version, log, lines, agentSec, alerts, items}: what ran and how long the agent took
#
# Enabled items (resolved recursively from the package's hub index): the collection crowdsecurity/nginx (which
# pulls in crowdsecurity/base-http-scenarios and crowdsecurity/http-cve: 33 scenarios), and the parsers
# crowdsecurity/syslog-logs (its non-syslog node sets program = the -type label, which nginx-logs filters on:
# without it no line parses), crowdsecurity/dateparse-enrich (event time from the log line: needed for replay)
# and crowdsecurity/whitelists (private addresses), as the Debian package's default set has them.
# `cscli hub update` / `cscli collections install` need the network (1.4.6's cscli asks version.crowdsec.net for
# the hub branch before any hub command, even `cscli collections list`), so items are enabled the way the Debian
# postinst does it: symlinks from the config dir into the offline hub. A data file a scenario names but the
# package ships under its source URL's name (http_path_traversal.txt = path_traversal.txt) is copied to the
# expected name; replay.json lists such fix-ups under items.dataFiles.
#
# Steps: set up DIR (idempotent: it is rebuilt on every run; a DIR not made by this script must be empty),
# register a machine, start a local API (`crowdsec -no-cs -no-capi`), run the agent in time-machine mode
# (`crowdsec -dsn file://LOG -type nginx -no-api -no-capi`, timed: it exits when the file is read and its
# alerts are pushed), list the alerts, stop the local API. Prints `alerts: DIR/alerts.json` on stdout.
set -euo pipefail

die() {
  echo "replay.sh: $*" >&2
  exit 1
}

DIR=""
PORT=""
ROUTINES=""
LOG=""
while [ $# -gt 0 ]; do
  case "$1" in
  --dir) DIR="${2:?--dir needs a directory}"; shift 2 ;;
  --port) PORT="${2:?--port needs a number}"; shift 2 ;;
  --routines) ROUTINES="${2:?--routines needs a number}"; shift 2 ;;
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  -*) die "unknown option $1 (see --help)" ;;
  *) [ -z "$LOG" ] || die "one access log only"; LOG="$1"; shift ;;
  esac
done
case "$PORT$ROUTINES" in *[!0-9]*) die "--port and --routines take whole numbers" ;; esac
[ -n "$LOG" ] || die "usage: replay.sh [--dir DIR] [--port PORT] [--routines N] ACCESS_LOG"
[ -f "$LOG" ] || die "no such file: $LOG"
LOG="$(cd "$(dirname "$LOG")" && pwd)/$(basename "$LOG")"

command -v crowdsec >/dev/null 2>&1 && command -v cscli >/dev/null 2>&1 ||
  die "crowdsec is not installed (Debian/Ubuntu: apt-get install crowdsec; see bench/README.md, bench:crowdsec)"
HUB_SRC=/usr/share/crowdsec/hub
DATA_SRC=/usr/share/crowdsec/data
[ -f "$HUB_SRC/.index.json" ] ||
  die "no offline hub at $HUB_SRC (this script expects the Debian crowdsec package, which ships one)"
command -v node >/dev/null 2>&1 || die "node is needed to read the hub index"

MARK=.apiwarden-crowdsec-replay
if [ -z "$DIR" ]; then
  DIR="$(mktemp -d "${TMPDIR:-/tmp}/apiwarden-crowdsec.XXXXXX")"
else
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  if [ ! -e "$DIR/$MARK" ] && [ -n "$(ls -A "$DIR")" ]; then
    die "$DIR is not empty and was not made by this script: give an empty or new directory"
  fi
fi
touch "$DIR/$MARK"
rm -rf "$DIR/etc" "$DIR/hub" "$DIR/data" "$DIR/log" "$DIR/alerts.json" "$DIR/replay.json"
mkdir -p "$DIR/etc" "$DIR/hub" "$DIR/data" "$DIR/log"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "$PORT" ]; then
  PORT=18080
  while port_busy "$PORT"; do PORT=$((PORT + 1)); done
elif port_busy "$PORT"; then
  die "port $PORT is in use"
fi

# The offline hub, as the Debian postinst lays it out (/var/lib/crowdsec/hub), but private to DIR.
for item in blockers collections parsers postoverflows scenarios .index.json; do
  [ -e "$HUB_SRC/$item" ] && ln -s "$HUB_SRC/$item" "$DIR/hub/$item"
done
cp "$DATA_SRC"/* "$DIR/data/"
cp -r /etc/crowdsec/patterns "$DIR/etc/patterns"
cat >"$DIR/etc/profiles.yaml" <<'EOF'
name: default_ip_remediation
filters:
 - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
 - type: ban
   duration: 4h
on_success: break
EOF
printf 'simulation: off\n' >"$DIR/etc/simulation.yaml"
: >"$DIR/etc/acquis.yaml"

PARSER_ROUTINES="${ROUTINES:-1}"
cat >"$DIR/etc/config.yaml" <<EOF
# Written by apiwarden scripts/crowdsec/replay.sh: offline replay, no Central API.
common:
  daemonize: false
  log_media: file
  log_level: info
  log_dir: $DIR/log/
  working_dir: .
config_paths:
  config_dir: $DIR/etc/
  data_dir: $DIR/data/
  simulation_path: $DIR/etc/simulation.yaml
  hub_dir: $DIR/hub/
  index_path: $DIR/hub/.index.json
  notification_dir: $DIR/etc/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: $DIR/etc/acquis.yaml
  parser_routines: $PARSER_ROUTINES
cscli:
  output: human
  color: no
db_config:
  log_level: info
  type: sqlite
  db_path: $DIR/data/crowdsec.db
  use_wal: true
api:
  client:
    insecure_skip_verify: false
    credentials_path: $DIR/etc/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: 127.0.0.1:$PORT
    profiles_path: $DIR/etc/profiles.yaml
    trusted_ips:
      - 127.0.0.1
      - ::1
prometheus:
  enabled: false
  level: full
  listen_addr: 127.0.0.1
  listen_port: 6060
EOF
CFG="$DIR/etc/config.yaml"

# Enable hub items: symlinks DIR/etc/<type>/[<stage>/]<name>.yaml -> DIR/hub/<path>, dependencies included.
ITEMS="$(
  HUB="$DIR/hub" ETC="$DIR/etc" DATA="$DIR/data" node --input-type=module -e '
import { readFileSync, mkdirSync, symlinkSync, existsSync, copyFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
const hub = process.env.HUB, etc = process.env.ETC, data = process.env.DATA;
const index = JSON.parse(readFileSync(join(hub, ".index.json"), "utf8"));
const want = [
  ["collections", "crowdsecurity/nginx"],
  ["parsers", "crowdsecurity/syslog-logs"],
  ["parsers", "crowdsecurity/dateparse-enrich"],
  ["parsers", "crowdsecurity/whitelists"],
];
const fixes = [];
const done = new Set();
const enable = (type, name) => {
  const key = `${type}:${name}`;
  if (done.has(key)) return;
  done.add(key);
  const it = index[type]?.[name];
  if (it === undefined) throw new Error(`${type} ${name}: not in the offline hub index`);
  const src = join(hub, it.path);
  if (!existsSync(src)) throw new Error(`${type} ${name}: ${src} is missing from the offline hub`);
  const dst = join(etc, type, it.stage ?? "", basename(it.path));
  mkdirSync(dirname(dst), { recursive: true });
  if (!existsSync(dst)) symlinkSync(src, dst);
  // Data files: the package ships them under the name of their source URL, which is not always the dest_file.
  const text = readFileSync(src, "utf8");
  for (const m of text.matchAll(/source_url:\s*(\S+)\s*\n\s*dest_file:\s*(\S+)/g)) {
    const want = join(data, m[2]), have = join(data, basename(m[1]));
    if (!existsSync(want) && existsSync(have)) { copyFileSync(have, want); fixes.push(`${m[2]} <- ${basename(m[1])}`); }
    else if (!existsSync(want)) fixes.push(`${m[2]}: missing (${name} runs without it)`);
  }
  for (const t of ["parsers", "postoverflows", "scenarios", "collections"]) for (const n of it[t] ?? []) enable(t, n);
};
for (const [t, n] of want) enable(t, n);
const out = {};
for (const k of done) { const [t, n] = k.split(":"); (out[t] ??= []).push(`${n}@${index[t][n].version}`); }
for (const t in out) out[t].sort();
out.dataFiles = fixes;
process.stdout.write(JSON.stringify(out));
'
)" || die "could not enable the hub items from $HUB_SRC/.index.json"

VERSION="$(crowdsec -version 2>&1 | sed -n 's/.*version: //p' | head -n 1)"

cscli -c "$CFG" --error machines add apiwarden-replay --auto --force \
  -f "$DIR/etc/local_api_credentials.yaml" -u "http://127.0.0.1:$PORT" >/dev/null ||
  die "cscli machines add failed"

LAPI_PID=""
stop_lapi() {
  if [ -n "$LAPI_PID" ] && kill -0 "$LAPI_PID" 2>/dev/null; then
    kill "$LAPI_PID" 2>/dev/null || true
    wait "$LAPI_PID" 2>/dev/null || true
  fi
  LAPI_PID=""
}
trap stop_lapi EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Local API only (no agent, no CAPI); its own log file so that the agent's does not mix with it.
sed "s#log_dir: $DIR/log/#log_dir: $DIR/log/lapi/#" "$CFG" >"$DIR/etc/config-lapi.yaml"
mkdir -p "$DIR/log/lapi"
crowdsec -c "$DIR/etc/config-lapi.yaml" -no-cs -no-capi >"$DIR/log/lapi.stdout" 2>&1 &
LAPI_PID=$!
for _ in $(seq 1 100); do
  port_busy "$PORT" && break
  kill -0 "$LAPI_PID" 2>/dev/null || die "the local API exited at start-up: see $DIR/log/lapi/crowdsec.log"
  sleep 0.1
done
port_busy "$PORT" || die "the local API did not listen on 127.0.0.1:$PORT within 10 s"

echo "replay.sh: crowdsec $VERSION, replaying $LOG (local API on 127.0.0.1:$PORT, work dir $DIR)" >&2
LINES="$(wc -l <"$LOG" | tr -d ' ')"
T0="$(date +%s.%N)"
crowdsec -c "$CFG" -dsn "file://$LOG" -type nginx -no-api -no-capi >"$DIR/log/agent.stdout" 2>&1 ||
  die "the crowdsec agent failed: see $DIR/log/agent.stdout"
T1="$(date +%s.%N)"
AGENT_SEC="$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.3f", b - a }')"

cscli -c "$CFG" --error alerts list -o json --limit 0 >"$DIR/alerts.json" ||
  die "cscli alerts list failed"
stop_lapi

ALERTS="$(node -e 'const a = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(Array.isArray(a) ? a.length : 0)' "$DIR/alerts.json")"
cat >"$DIR/replay.json" <<EOF
{"version": "$VERSION", "log": "$LOG", "lines": $LINES, "agentSec": $AGENT_SEC, "alerts": $ALERTS, "parserRoutines": $PARSER_ROUTINES, "dir": "$DIR", "alertsPath": "$DIR/alerts.json", "items": $ITEMS}
EOF
echo "replay.sh: $LINES lines in $AGENT_SEC s, $ALERTS alerts" >&2
echo "alerts: $DIR/alerts.json"
