#!/usr/bin/env bash
# Runs every test file under test/ with node:test through tsx (Node 20's --test takes no globs).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
