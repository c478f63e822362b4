#!/usr/bin/env bash
# Installs the Debian packages the tests use: XGBoost 1.7 and Optuna 3.1 for /usr/bin/python3 (the
# reference implementations), scikit-learn (the digits example: examples/train_digits.py), and
# slurm-wlm + munge (the single-node test cluster of scripts/slurm-test-cluster.sh), and Chromium
# with its driver for the web page's browser tests (test/web, driven by playwright-core, which
# downloads no browser of its own). Each part is skipped when already present.
set -euo pipefail
here=$(dirname "$0")
need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "install-system-deps: need root to apt-get install $*" >&2
    exit 1
  fi
}
updated=false
apt_install() {
  need_root "$@"
  $updated || apt-get update -qq
  updated=true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
if ! /usr/bin/python3 -c 'import xgboost, optuna' 2>/dev/null; then
  apt_install python3-xgboost python3-optuna
fi
if ! /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
  apt_install --no-install-recommends python3-sklearn
fi
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt_install --no-install-recommends chromium chromium-driver fonts-dejavu-core
fi
bash "$here/slurm-test-cluster.sh" install
