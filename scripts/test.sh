#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test on SQLite and
# PostgreSQL. On a fresh Debian/Ubuntu machine with only Rust installed it
# installs and starts what the tests need, saying so as it goes.
#
#   ./scripts/test.sh            everything (what CI runs)
#   LEETCHAT_TEST_PG=postgres://user@host:port/db ./scripts/test.sh
#                                use another PostgreSQL server (tests create
#                                and drop their own databases on it)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leetchat/target}"
export LEETCHAT_TEST_PG="${LEETCHAT_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  step "installing $* with apt-get"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

ensure_postgres() {
  local hostport host port
  hostport="${LEETCHAT_TEST_PG#*@}"; hostport="${hostport%%/*}"
  host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=5432
  if port_open "$host" "$port"; then
    echo "PostgreSQL is up at $host:$port"
    return
  fi
  case "$host" in 127.0.0.1|localhost) ;; *) fail "PostgreSQL at $host:$port is unreachable (LEETCHAT_TEST_PG)";; esac
  local fresh=0
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt_install postgresql
    fresh=1
  fi
  local ver
  ver="$(ls /etc/postgresql | sort -V | tail -n 1)"
  [ -n "$ver" ] || fail "no PostgreSQL cluster found under /etc/postgresql"
  if [ "$fresh" = 1 ]; then
    # A cluster this script just installed is used only by these tests:
    # let the postgres user in over loopback without a password.
    local hba="/etc/postgresql/$ver/main/pg_hba.conf"
    grep -q 'leetchat-tests' "$hba" || as_root sed -i \
      '1i host all postgres 127.0.0.1/32 trust # leetchat-tests' "$hba"
  fi
  step "starting PostgreSQL $ver"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do
    port_open "$host" "$port" && { echo "PostgreSQL is up"; return; }
    sleep 1
  done
  fail "PostgreSQL did not come up on $host:$port within 30 s"
}

ensure_moto() {
  if command -v moto_server >/dev/null 2>&1; then
    echo "moto_server is installed"
    return
  fi
  local venv="${LEETCHAT_TOOLS_VENV:-$HOME/.cache/leetchat/venv}"
  if [ ! -x "$venv/bin/moto_server" ]; then
    step "installing moto[server] (an S3-compatible server for the object-storage test) into $venv"
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv python3-pip; python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q "moto[server]"
  fi
  export PATH="$venv/bin:$PATH"
}

ensure_http_ece() {
  # Web Push payloads are checked by a second implementation (Python's
  # http_ece for RFC 8291, cryptography for the VAPID signature).
  local venv="${LEETCHAT_TOOLS_VENV:-$HOME/.cache/leetchat/venv}"
  if ! "$venv/bin/python" -c 'import http_ece, cryptography' 2>/dev/null; then
    step "installing http_ece (an independent RFC 8291 implementation for the Web Push check) into $venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" 2>/dev/null \
      || { apt_install python3-venv python3-pip; python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q http_ece || fail "could not install http_ece (pip install http_ece)"
  fi
  export LEETCHAT_PYTHON="$venv/bin/python"
}

step "PostgreSQL for the test suite"
ensure_postgres

ensure_cluster_tools() {
  # The multi-node suite starts its own redis-server (on a free port) and
  # nginx (with deploy/nginx.conf) in front of the nodes it starts.
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
  # Debian starts services it installs; the tests need neither on the standard ports.
  export PATH="$PATH:/usr/sbin"
  echo "redis-server and nginx are installed"
}

step "Redis and nginx for the multi-node suite"
ensure_cluster_tools

step "S3-compatible server for the file-storage test"
ensure_moto

ensure_app_build_deps() {
  if pkg-config --exists webkit2gtk-4.1 javascriptcoregtk-4.1 libsoup-3.0 2>/dev/null; then
    echo "WebKitGTK development files are installed"
    return
  fi
  apt_install pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
}

ensure_node() {
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
}

step "build dependencies of the app (WebKitGTK, Node.js)"
ensure_app_build_deps
ensure_node

step "web UI: install, type-check, unit tests (Vitest), build"
(cd ui && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in ui/ failed"
(cd ui && npm run --silent typecheck) || fail "the UI does not type-check"
uilog="$(mktemp)"
(cd ui && npm test 2>&1) | tee "$uilog" || fail "UI unit tests failed"
(cd ui && npm run --silent build) || fail "the UI does not build"

step "TypeScript types generated from the Rust types are up to date"
cargo test -q -p leetchat-protocol -p leetchat-client --features ts --locked export_bindings >/dev/null \
  || fail "generating TypeScript types failed"
if [ -n "$(git status --porcelain -- ui/src/gen)" ]; then
  git status --porcelain -- ui/src/gen >&2
  fail "ui/src/gen is stale: run 'cargo test -p leetchat-protocol -p leetchat-client --features ts export_bindings' and commit ui/src/gen"
fi

step "cargo fmt --check"
cargo fmt --all -- --check || fail "code is not formatted: run 'cargo fmt --all'"

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings || fail "clippy found problems"

step "cargo deny: licenses, banned and duplicate crates, sources, advisories (deny.toml)"
if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "installing cargo-deny (cargo install cargo-deny --locked)"
  cargo install cargo-deny --locked --quiet || fail "could not install cargo-deny (cargo install cargo-deny --locked)"
fi
cargo deny --locked check licenses bans sources \
  || fail "cargo deny found a license, a banned or duplicated crate, or a source deny.toml does not allow: see above"
# The advisory database is a git repository on GitHub. Where GitHub cannot be
# reached the check cannot run: that is said loudly, not passed silently.
if timeout 30 git ls-remote https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
  cargo deny --locked check advisories \
    || fail "cargo deny: a dependency has a security advisory or is unmaintained/yanked: see above"
else
  echo "WARNING: advisories NOT checked: github.com/rustsec/advisory-db is unreachable from this machine" >&2
fi

step "mobile code paths compile: cargo clippy -p leetchat-app --target aarch64-linux-android -D warnings"
# There is no Android NDK here, so nothing is linked. The C code of ring and
# SQLite is compiled by Debian's clang for aarch64-linux-android against
# Debian's aarch64 libc headers (not Android's bionic): enough to check that
# the Rust code and its mobile cfgs compile, not a build of an Android app.
if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-linux-android; then
  rustup target add aarch64-linux-android || fail "could not add the Rust target aarch64-linux-android (rustup target add aarch64-linux-android)"
fi
if ! command -v clang >/dev/null 2>&1 || ! command -v llvm-ar >/dev/null 2>&1 || [ ! -f /usr/aarch64-linux-gnu/include/stdio.h ]; then
  apt_install clang llvm libc6-dev-arm64-cross
fi
CC_aarch64_linux_android=clang AR_aarch64_linux_android=llvm-ar \
  CFLAGS_aarch64_linux_android="--target=aarch64-linux-android24 -isystem /usr/aarch64-linux-gnu/include" \
  cargo clippy --locked -p leetchat-app --target aarch64-linux-android -- -D warnings \
  || fail "the app does not compile cleanly for Android (cargo clippy -p leetchat-app --target aarch64-linux-android): see the errors above"

step "cargo test (SQLite and PostgreSQL)"
# Property tests run with fixed case counts (proptest); the fuzz suite
# against the real server takes this many random requests per event.
export LEETCHAT_FUZZ_CASES="${LEETCHAT_FUZZ_CASES:-64}"
# Random interleavings of reads, sends, edits, deletes, leaves and joins on
# three devices of one user (crates/client/tests/core/counts.rs).
export LEETCHAT_COUNTS_CASES="${LEETCHAT_COUNTS_CASES:-24}"
log="$(mktemp)"
keyring_home="$(mktemp -d)"
trap 'rm -rf "$log" "$keyring_home" "$uilog"' EXIT
status=0
# --no-fail-fast: every failing test binary is reported, not just the first.
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?

step "OS keyring test (a real Secret Service: gnome-keyring under dbus-run-session)"
if ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  apt_install gnome-keyring dbus-x11
fi
# A throwaway HOME gets a fresh login keyring; cargo and rustup keep theirs.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
HOME="$keyring_home" dbus-run-session -- bash -c '
  printf leetchat | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
  cargo test -p leetchat-client --test keyring --locked -- --ignored
' 2>&1 | grep -v "Failed to set fd limit" | tee -a "$log" || status=$?

step "Web Push checked by an independent implementation (Python http_ece decrypts the payload, cryptography verifies the VAPID signature)"
ensure_http_ece
cargo test -p leetchat-server --test api --locked -- --ignored --exact push::pushes_open_with_an_independent_implementation 2>&1 \
  | tee -a "$log" || status=$?

step "Socket.IO: the original design's socket.io-client examples against the real server (Node)"
cargo build --locked -p leetchat-server || status=$?
(cd server/tests/socketio && npm ci --no-audit --no-fund --loglevel=error \
  && LEETCHAT_SERVER_BIN="$CARGO_TARGET_DIR/debug/leetchat-server" npm test) 2>&1 | tee -a "$uilog" \
  || { status=1; echo "FAILED: the Socket.IO tests (server/tests/socketio)" >&2; }

step "benchmark harness: leetchat-bench --quick (every scenario, small; fails on lost or duplicated messages, never on timings)"
cargo build --locked -p leetchat-bench || status=$?
benchout="$(mktemp -d)"
"$CARGO_TARGET_DIR/debug/leetchat-bench" --quick --out "$benchout" \
  || { status=1; echo "FAILED: leetchat-bench --quick (a scenario failed or lost messages; see above)" >&2; }

step "benchmark harness: a one-minute soak (two nodes, client-core clients, a node killed, Redis restarted; fails on lost or duplicated messages)"
CI=1 "$CARGO_TARGET_DIR/debug/leetchat-bench" --only soak --soak-minutes 1 --out "$benchout" \
  || { status=1; echo "FAILED: leetchat-bench --only soak (lost or duplicated messages, or a fault it could not survive; see above)" >&2; }
step "benchmark harness: search on SQLite and PostgreSQL, small (--only search --quick: older messages indexed in the background, every match found once)"
CI=1 "$CARGO_TARGET_DIR/debug/leetchat-bench" --only search --quick --out "$benchout" \
  || { status=1; echo "FAILED: leetchat-bench --only search --quick (see above)" >&2; }
rm -rf "$benchout"

step "end-to-end: the real app window under Xvfb, driven through tauri-driver + WebKitWebDriver"
# fonts-noto-color-emoji: reactions and the emoji picker, as a desktop has them.
if ! command -v WebKitWebDriver >/dev/null 2>&1 || ! command -v Xvfb >/dev/null 2>&1 \
  || ! command -v dunst >/dev/null 2>&1 || ! command -v xdotool >/dev/null 2>&1 \
  || ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v xclip >/dev/null 2>&1 \
  || [ ! -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
  apt_install webkit2gtk-driver xvfb dunst xdotool dbus-x11 xclip fonts-noto-color-emoji
fi
cargo build --locked -p leetchat-server -p leetchat-cli -p leetchat-app || status=$?
./scripts/e2e.sh 2>&1 | tee -a "$uilog" || status=$?

# One closing line for the whole run, summed over every test binary.
summary="$(sed 's/\x1b\[[0-9;]*m//g' "$log" "$uilog" | awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  /^ *Tests +[0-9]/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  /^# pass [0-9]+$/ { p += $3 }
  /^# fail [0-9]+$/ { f += $3 }
  END { printf "%d passed, %d failed", p, f }')"
[ "$status" -eq 0 ] || { grep -E '^(---- |test .* FAILED|failures:)' "$log" | head -40 >&2; fail "tests failed ($summary); see the output above"; }

step "all checks passed"
echo "tests: $summary"
