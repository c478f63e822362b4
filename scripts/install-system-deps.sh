#!/usr/bin/env bash
# Installs the Debian packages the tests use: XGBoost 1.7 and Optuna 3.1 for /usr/bin/python3 (the
# reference implementations), scikit-learn (the digits example: examples/train_digits.py), and
# slurm-wlm + munge (the single-node test cluster of scripts/slurm-test-cluster.sh),
# PostgreSQL 15 (the server the PostgreSQL knowledge-base tests start in a temporary directory)
# with pgvector where Debian has it, psycopg2 (real Optuna writes a storage on that server), and
# Chromium with its driver for the web page's browser tests (test/web, driven by playwright-core,
# which downloads no browser of its own). Each part is skipped when already present.
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
# jsonschema: the export tests validate W&B sweeps and ConfigSpace files against the formats' schemas.
if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
  apt_install --no-install-recommends python3-jsonschema
fi
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  apt_install --no-install-recommends postgresql
fi
# psycopg2: real Optuna writes the Optuna storage on PostgreSQL that the import tests read.
if ! /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; then
  apt_install --no-install-recommends python3-psycopg2
fi
# pgvector is packaged for some Debian releases only; without it the vector index of a PostgreSQL
# knowledge base is the flat index stored in a table, so a missing package is not an error.
if [ ! -f /usr/share/postgresql/15/extension/vector.control ] && [ "$(id -u)" = 0 ]; then
  $updated || { apt-get update -qq; updated=true; }
  if apt-cache show postgresql-15-pgvector >/dev/null 2>&1; then
    apt_install postgresql-15-pgvector
  fi
fi
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt_install --no-install-recommends chromium chromium-driver fonts-dejavu-core
fi
bash "$here/slurm-test-cluster.sh" install
