#!/usr/bin/env bash
# Rehearses CI on a machine that has never seen the project: removes what earlier runs left on
# this machine (Debian's redis-server and prometheus packages, the local Maven repository
# ~/.m2/repository), then runs `bash .ci/run` with CI=true in a fresh clone of this checkout's HEAD
# (no .tools/, node_modules/ or infra/*/target/). Destructive for this machine's packages and
# Maven cache: run it as root on a development or CI machine, not on one that serves anything.
#
#   bash infra/bin/rehearse-fresh-machine.sh [runs]    # default 2 runs, each from the removed state
#
# Exits non-zero at the first run that fails; that run's output is kept in its log file.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs="${1:-2}"
work="$(mktemp -d "${TMPDIR:-/tmp}/crm-rehearsal-XXXXXX")"

forget() {
  echo "rehearsal: removing redis-server, prometheus and ~/.m2/repository" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get purge -y -qq redis-server redis-tools prometheus >/dev/null 2>&1 || true
    apt-get autoremove -y -qq >/dev/null 2>&1 || true
  else
    echo "rehearsal: not root: Debian's packages stay installed (the rehearsal is then only partial)" >&2
  fi
  # All of the local Maven repository: the jars and the Maven plugins infra's poms need.
  rm -rf "$HOME/.m2/repository"
  # Registry caches too: Node, pnpm and the dependencies come from the npm registry again.
  rm -rf "$HOME/.npm" "$HOME/.local/share/pnpm" "$HOME/.cache/pnpm"
}

for i in $(seq 1 "$runs"); do
  forget
  clone="$work/run-$i"
  git clone -q "$root" "$clone"
  log="$work/run-$i.log"
  echo "rehearsal: run $i of $runs in $clone (log: $log)" >&2
  start=$(date +%s)
  if (cd "$clone" && CI=true bash .ci/run </dev/null >"$log" 2>&1); then
    echo "rehearsal: run $i passed in $(($(date +%s) - start)) s: $(tail -n 1 "$log")" >&2
    rm -rf "$clone"
  else
    echo "rehearsal: run $i FAILED after $(($(date +%s) - start)) s; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
done
echo "rehearsal: $runs of $runs runs passed from a fresh machine's state" >&2
