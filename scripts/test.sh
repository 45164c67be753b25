#!/usr/bin/env bash
# The test command: formatting, lints, the release build, the Rust tests, and the end-to-end
# tests (real berth processes, real Docker, boto3 and the aws CLI).
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -k crash -x     # extra arguments go to pytest
#
# Needs: cargo (with rustfmt and clippy), a reachable Docker Engine, busybox-static (for the
# test image), python3 with boto3, botocore, awscli and pytest. `.ci/run` installs all of it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\ntest.sh: FAILED: %s\n' "$*" >&2; exit 1; }
started=$SECONDS

# Check the prerequisites first, so a missing Docker is reported before minutes of compiling.
step "checking prerequisites"
command -v cargo >/dev/null || die "cargo is not on PATH"
command -v docker >/dev/null || die "the docker CLI is not installed; the end-to-end tests need Docker (they are never skipped)"
if ! docker_error=$(docker info --format '{{.ServerVersion}}' 2>&1); then
  die "Docker is unreachable (docker info: ${docker_error}). Start the Docker Engine or point DOCKER_HOST at it; the end-to-end tests are never skipped."
fi
echo "docker engine ${docker_error}"
python3 - <<'PY' || die "python3 lacks the e2e test dependencies; run: pip install -r tests/e2e/requirements.txt (or .ci/run)"
import importlib.util, shutil, sys
missing = [m for m in ("boto3", "botocore", "pytest", "xdist", "awscli") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"missing python modules: {', '.join(missing)}")
print("python", sys.version.split()[0], "aws:", shutil.which("aws") or "python -m awscli")
PY

step "cargo fmt --all -- --check"
cargo fmt --all -- --check || die "code is not formatted: run cargo fmt --all"

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings || die "clippy found problems"

# The fuzz targets live in their own workspace (fuzzing needs nightly); checking them on the
# stable toolchain keeps them compiling as the crates they call change.
step "cargo check --manifest-path fuzz/Cargo.toml"
cargo check --manifest-path fuzz/Cargo.toml || die "the fuzz targets no longer compile"

step "cargo build --release -p berth"
cargo build --release -p berth || die "the release build failed"

step "cargo test --workspace --release"
cargo test --workspace --release || die "Rust tests failed"

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export BERTH_BIN="${BERTH_BIN:-$target_dir/release/berth}"
[ -x "$BERTH_BIN" ] || die "$BERTH_BIN was not built"

step "building the test image (tests/images/build.sh)"
bash tests/images/build.sh || die "could not build the test image (is busybox-static installed?)"

# Each module has its own `berth up` (own port, data dir and cluster), so modules run side by
# side: most of their time is spent waiting on Docker, not on the CPU. `--dist loadfile` keeps
# a module's tests in one worker, in order. BERTH_E2E_WORKERS=1 runs them one after another.
workers=${BERTH_E2E_WORKERS:-3}
step "python3 -m pytest -q -n $workers --dist loadfile tests/e2e $*"
python3 -m pytest -q -n "$workers" --dist loadfile tests/e2e "$@" || die "end-to-end tests failed (berth logs are shown with each failure above)"

step "all checks passed in $((SECONDS - started))s"
