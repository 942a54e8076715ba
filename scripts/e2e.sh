#!/usr/bin/env bash
# End-to-end test of the real desktop app through WebDriver: tauri-driver in
# front of WebKitWebDriver (Debian: webkit2gtk-driver), driven by
# ui/e2e/app.e2e.mjs (selenium-webdriver) against a real leetchat-server and
# the leetchat CLI, with dunst as the desktop notification server on a
# private session bus (dbus-run-session) and xclip to put an image on the
# clipboard. Builds nothing: it expects the debug binaries
# (leetchat-server, leetchat, leetchat-app with the built UI) in
# $CARGO_TARGET_DIR/debug (default ~/.cache/leetchat/target/debug).
#
#   ./scripts/e2e.sh
#   LEETCHAT_E2E_KEEP=1 ./scripts/e2e.sh   keep the temp data and logs
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/leetchat/target}"
export PATH="$HOME/.cargo/bin:$PATH"

fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

for bin in leetchat-server leetchat leetchat-app; do
  [ -x "$CARGO_TARGET_DIR/debug/$bin" ] || fail "$CARGO_TARGET_DIR/debug/$bin is missing: build it first"
done
command -v WebKitWebDriver >/dev/null 2>&1 || fail "WebKitWebDriver is missing (apt-get install webkit2gtk-driver)"
command -v node >/dev/null 2>&1 || fail "node is missing"
for tool in dbus-run-session dbus-send dunst dunstctl xdotool xclip; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (apt-get install dbus-x11 dunst xdotool xclip)"
done

if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "==> installing tauri-driver (cargo install tauri-driver --locked)"
  cargo install tauri-driver --locked
fi

if [ ! -d ui/e2e/node_modules/selenium-webdriver ] || [ ! -d ui/e2e/node_modules/axe-core ]; then
  echo "==> installing the e2e test's npm packages"
  (cd ui/e2e && npm ci --no-audit --no-fund)
fi

xvfb_pid=""
cleanup() {
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

if [ -z "${DISPLAY:-}" ]; then
  command -v Xvfb >/dev/null 2>&1 || fail "no DISPLAY and Xvfb is missing (apt-get install xvfb)"
  display=""
  for n in $(seq 99 199); do
    if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then display=":$n"; break; fi
  done
  [ -n "$display" ] || fail "no free X display between :99 and :199"
  Xvfb "$display" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 1 50); do
    [ -e "/tmp/.X11-unix/X${display#:}" ] && break
    kill -0 "$xvfb_pid" 2>/dev/null || fail "Xvfb $display did not start"
    sleep 0.1
  done
  [ -e "/tmp/.X11-unix/X${display#:}" ] || fail "Xvfb $display did not come up"
  export DISPLAY="$display"
  echo "==> Xvfb on $DISPLAY"
fi

echo "==> node --test ui/e2e/ (on a private session bus)"
dbus-run-session -- node --test ui/e2e/
