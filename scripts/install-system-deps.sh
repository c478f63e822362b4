#!/usr/bin/env bash
# Installs the Debian packages the reference tests compare against (XGBoost 1.7 and Optuna 3.1
# for /usr/bin/python3). Skips the install when they are already importable.
set -euo pipefail
if /usr/bin/python3 -c 'import xgboost, optuna' 2>/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: need root to apt-get install python3-xgboost python3-optuna" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-xgboost python3-optuna >/dev/null
