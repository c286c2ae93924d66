#!/usr/bin/env bash
# The runnable examples in examples/, each of which checks what it does and fails otherwise:
# `embed` (Tainá as a library, in a throwaway data directory), `import_photos` (the test photos
# into a throwaway instance, twice), and `bot` (the SDK's bot against a real `taina serve`, spoken
# to by a person through the HTTP API). Prints `examples: N passed, M failed`.
#
# Usage: scripts/test-examples.sh   (scripts/test.sh runs it after the Rust tests)
set -uo pipefail
cd "$(dirname "$0")/.."

# The workspace's test build, plus the examples (the image decoder the examples use is one of
# the workspace's binaries).
cargo build -q --workspace --lib --bins --tests --examples || { echo "examples: 0 passed, 1 failed"; exit 1; }
passed=0 failed=0
run() {
    local name="$1"; shift
    if "$@"; then passed=$((passed + 1)); echo "example $name: ok"
    else failed=$((failed + 1)); echo "example $name: FAILED"; fi
}

run embed target/debug/examples/embed
run import_photos target/debug/examples/import_photos tests/fixtures/photos

bot_example() {
    local work port server bot status=0
    work="$(mktemp -d /tmp/taina-bot.XXXXXX)"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    local password='correct horse battery staple'
    (
        export TAINA_LOG=error
        unset TAINA_DATABASE_URL TAINA_CONFIG
        printf '%s\n' "$password" | target/debug/taina --data-dir "$work/data" admin community create \
            --name "Bot test" --admin-email bia@example.org --admin-name Bia >/dev/null &&
        printf '%s\n' "$password" | target/debug/taina --data-dir "$work/data" admin user add \
            bot@example.org --name Robô >/dev/null
    ) || { rm -rf "$work"; return 1; }
    TAINA_LOG=error target/debug/taina serve --listen "127.0.0.1:$port" --data-dir "$work/data" >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 1 100); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null && break
        sleep 0.1
    done
    TAINA_BOT_PASSWORD="$password" timeout 60 target/debug/examples/bot \
        "http://127.0.0.1:$port" bot@example.org --replies 2 2>"$work/bot.log" &
    bot=$!
    # Speak once the bot listens: what is said before its subscription starts is not its business.
    for _ in $(seq 1 200); do
        grep -q "bot: connected" "$work/bot.log" 2>/dev/null && break
        sleep 0.1
    done
    # Bia, a person with a browser, talks to the bot through the API and reads its answers.
    TAINA_URL="http://127.0.0.1:$port" TAINA_PASSWORD="$password" BOT_PID="$bot" python3 - <<'PY' || status=1
import json, os, time, urllib.request

base = os.environ["TAINA_URL"] + "/api/v1"

def call(method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + token} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")

token = call("POST", "/auth/login", {"email": "bia@example.org", "password": os.environ["TAINA_PASSWORD"]})["token"]
bot = next(m for m in call("GET", "/community/members", token=token)["items"] if m["email"] == "bot@example.org")
dm = call("POST", "/conversations/direct/" + bot["id"], {}, token)
call("POST", f"/conversations/{dm['id']}/messages", {"content": "/ping"}, token)
call("POST", f"/conversations/{dm['id']}/messages", {"content": "/echo olá, robô"}, token)
deadline = time.time() + 30
while time.time() < deadline:
    said = [m["text"] for m in call("GET", f"/conversations/{dm['id']}/messages", token=token)["items"]
            if m.get("sender_id") == bot["id"]]
    if len(said) >= 2:
        break
    time.sleep(0.2)
assert said == ["pong", "olá, robô"], said
print("bot answered:", said)
PY
    wait "$bot" || status=1
    [ "$status" -eq 0 ] || cat "$work/bot.log" >&2
    kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
    rm -rf "$work"
    return "$status"
}
run bot bot_example

echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
