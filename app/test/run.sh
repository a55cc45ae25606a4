#!/bin/sh
# The app's test suite; the Dockerfile runs it during the build, so a failing test fails the build.
set -u
export KV_DIR=$(mktemp -d) KV_URL=http://127.0.0.1:18081
failures=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected [$2], got [$3]"; failures=$((failures + 1)); fi
}
# request METHOD PATH [BODY] against the web service: prints "STATUS BODY".
request() {
  out=$(printf '%s %s HTTP/1.0\r\nContent-Length: %s\r\n\r\n%s' "$1" "$2" "$(printf '%s' "${3:-}" | wc -c)" "${3:-}" | nc -w 5 127.0.0.1 18080)
  printf '%s %s' "$(printf '%s\n' "$out" | head -n 1 | cut -d' ' -f2 | tr -d '\r')" "$(printf '%s\n' "$out" | sed '1,/^\r\{0,1\}$/d')"
}
/app/bin/app kv 18081 2>/dev/null & kv=$!
APP_REQUIRE_SECRET=1 /app/bin/app web 18080 2>/dev/null & web=$!
sleep 1

check "health without the secret" "503 secret app_token missing" "$(request GET /healthz)"
check "secret check never shows the value" "404 app_token missing" "$(request GET /secret-check)"
check "version page" "200 dockyard sample app version=$(cat /app/VERSION) host=$(hostname)" "$(request GET /)"
check "kv put" "200 stored greeting" "$(request PUT /kv/greeting hello)"
check "kv get" "200 hello" "$(request GET /kv/greeting)"
check "kv stored as a file" "hello" "$(cat "$KV_DIR/greeting")"
check "kv missing key" "404 no key nothing" "$(request GET /kv/nothing)"
check "kv bad key" "400 keys are letters, digits, '_', '.', '-'" "$(request GET /kv/..)"
check "kv delete" "200 deleted greeting" "$(request DELETE /kv/greeting)"
check "unknown route" "404 no route for GET /nope" "$(request GET /nope)"
kill "$web"
APP_REQUIRE_SECRET=0 /app/bin/app web 18080 2>/dev/null & web=$!
sleep 1
check "health" "200 ok" "$(request GET /healthz)"
[ "${FAIL_TESTS:-0}" = 1 ] && check "deliberate failure (FAIL_TESTS=1)" "pass" "fail"
kill "$web" "$kv"
echo "$failures failed"
[ "$failures" = 0 ]
