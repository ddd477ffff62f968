#!/usr/bin/env bash
# Runs Apicurio Registry 3 (Confluent-compatible API at /apis/ccompat/v7) as a local process, no Docker.
# Runs in the foreground (exec): background it yourself and poll
#   curl -sf http://$REGISTRY_HOST:$REGISTRY_PORT/apis/ccompat/v7/subjects
# To stop it, send SIGTERM to the pid.
#
# Environment (all optional):
#   REGISTRY_PORT       HTTP port (default 18081)
#   REGISTRY_HOST       bind address (default 127.0.0.1)
#   REGISTRY_MGMT_PORT  Quarkus management interface (health/metrics) port (default REGISTRY_PORT+1000)
#   REGISTRY_DATA_DIR   scratch dir for tmp/snapshots/import and the optional H2 file (default: new mktemp dir)
#   REGISTRY_PERSIST=1  keep schemas in an H2 file under REGISTRY_DATA_DIR (default: in-memory, lost on exit)
#   REGISTRY_JAVA       java binary to use (must be 21+; default: Temurin 25, then JAVA_HOME, then PATH)
#   REGISTRY_HEAP       max heap (default 512m)
#   REGISTRY_COMPATIBILITY  global compatibility rule (default BACKWARD, Confluent's default; Apicurio's
#                       own default is none). Values: BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FULL, NONE, ...
#                       NONE = leave Apicurio without a global compatibility rule.
# Extra arguments are passed to the JVM before -jar (e.g. -Dquarkus.log.level=DEBUG).
# The built server (target/quarkus-app) is created with Maven on first use.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
app="$here/target/quarkus-app/quarkus-run.jar"

port="${REGISTRY_PORT:-18081}"
host="${REGISTRY_HOST:-127.0.0.1}"
mgmt_port="${REGISTRY_MGMT_PORT:-$((port + 1000))}"
heap="${REGISTRY_HEAP:-512m}"
compat="${REGISTRY_COMPATIBILITY:-BACKWARD}"
data="${REGISTRY_DATA_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/crm-registry.XXXXXX")}"
mkdir -p "$data/tmp"

java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
pick_java() {
  local c
  if [ -n "${REGISTRY_JAVA:-}" ]; then   # explicit choice: use it or fail, never fall back
    c="$(java_major "$REGISTRY_JAVA" || true)"
    [ -n "$c" ] && [ "$c" -ge 21 ] && { echo "$REGISTRY_JAVA"; return 0; }
    echo "registry: REGISTRY_JAVA=$REGISTRY_JAVA is Java ${c:-?}" >&2; return 1
  fi
  for c in /usr/lib/jvm/temurin-25-jdk-amd64/bin/java \
           "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java 2>/dev/null || true)"; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    local m; m="$(java_major "$c")"
    [ -n "$m" ] && [ "$m" -ge 21 ] && { echo "$c"; return 0; }
  done
  return 1
}
java_bin="$(pick_java)" || { echo "registry: needs Java 21+ (Apicurio Registry 3 is built for release 21); set REGISTRY_JAVA" >&2; exit 1; }

if [ ! -f "$app" ]; then
  echo "registry: building $app (mvn package; downloads ~160 MB from Maven Central once)" >&2
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" package >&2
fi

if [ "${REGISTRY_PERSIST:-0}" = 1 ]; then
  ds_url="jdbc:h2:file:$data/h2/registry"
else
  ds_url="jdbc:h2:mem:registry;DB_CLOSE_DELAY=-1"
fi

rules_arg=""
[ "$compat" = NONE ] || rules_arg="-Dapicurio.rules.global.compatibility=$compat"

echo "registry: $java_bin, http://$host:$port/apis/ccompat/v7, data $data" >&2
exec "$java_bin" \
  -Xmx"$heap" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Djava.io.tmpdir="$data/tmp" \
  -Dquarkus.http.host="$host" \
  -Dquarkus.http.port="$port" \
  -Dquarkus.management.host="$host" \
  -Dquarkus.management.port="$mgmt_port" \
  -Dapicurio.storage.kind=sql \
  -Dapicurio.storage.sql.kind=h2 \
  -Dapicurio.datasource.url="$ds_url" \
  -Dapicurio.datasource.jdbc.initial-size=2 \
  -Dapicurio.datasource.jdbc.min-size=2 \
  -Dapicurio.datasource.jdbc.max-size=20 \
  -Dapicurio.storage.snapshot.location="$data/tmp" \
  -Dapicurio.import.work-dir="$data/tmp" \
  ${rules_arg:+"$rules_arg"} \
  "$@" \
  -jar "$app"
