#!/bin/sh
# The app's test suite. The Dockerfile's `test` stage runs it during the build (as the non-root
# user, in the build container), so a failing test fails the image build. It starts both servers
# on spare ports, exercises every endpoint over real HTTP, and exits non-zero on any failure.
#   FAIL_TESTS=1   adds a deliberately failing test (to show a failed build stopping a release)
# An image built with BREAK_HEALTH=1 is checked to fail its health check, as it is meant to.
set -u
KV_DIR="$(mktemp -d)"
export KV_DIR KV_URL=http://127.0.0.1:18081
secret_dir="$(mktemp -d)"
failures=0
passes=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "ok   $1"; passes=$((passes + 1)); else echo "FAIL $1: expected [$2], got [$3]"; failures=$((failures + 1)); fi
}
# request [PORT] METHOD PATH [BODY]: prints "STATUS BODY" (PORT defaults to the web service).
request() {
  case "$1" in [0-9]*) port=$1; shift ;; *) port=18080 ;; esac
  out=$(printf '%s %s HTTP/1.0\r\nContent-Length: %s\r\n\r\n%s' "$1" "$2" "$(printf '%s' "${3:-}" | wc -c)" "${3:-}" | nc -w 5 127.0.0.1 "$port" 2>/dev/null)
  printf '%s %s' "$(printf '%s\n' "$out" | head -n 1 | cut -d' ' -f2 | tr -d '\r')" "$(printf '%s\n' "$out" | sed '1,/^\r\{0,1\}$/d')"
}
# wait_for PORT: until the server there answers (at most 5 s).
wait_for() {
  i=0
  while [ $i -lt 50 ]; do
    case "$(request "$1" GET /healthz)" in [0-9]*) return 0 ;; esac
    sleep 0.1; i=$((i + 1))
  done
  echo "FAIL nothing answers on port $1"; failures=$((failures + 1))
}
# stop PID...: stop servers and wait until they are gone, so their ports can be used again at once.
stop() { kill "$@" 2>/dev/null; wait "$@" 2>/dev/null || true; }
broken=$(cat /app/BREAK_HEALTH)
healthy() { if [ "$broken" = 1 ]; then echo "503 broken on purpose"; else echo "200 ok"; fi; }

/app/bin/app kv 18081 2>/dev/null & kv=$!
APP_REQUIRE_SECRET=1 APP_SECRET_FILE="$secret_dir/app_token" /app/bin/app web 18080 2>/dev/null & web=$!
wait_for 18081; wait_for 18080

# Without the secret.
if [ "$broken" = 1 ]; then
  check "health of a BREAK_HEALTH=1 build" "503 broken on purpose" "$(request GET /healthz)"
else
  check "health without the secret" "503 secret app_token missing" "$(request GET /healthz)"
fi
check "secret check: reported missing" "404 app_token missing" "$(request GET /secret-check)"
check "version page" "200 dockyard sample app version=$(cat /app/VERSION) host=$(hostname)" "$(request GET /)"
check "unknown route" "404 no route for GET /nope" "$(request GET /nope)"

# The key-value store directly, then through the web service.
check "kv health" "200 ok" "$(request 18081 GET /healthz)"
check "kv put" "200 stored greeting" "$(request PUT /kv/greeting hello)"
check "kv get" "200 hello" "$(request GET /kv/greeting)"
check "kv stored as a file" "hello" "$(cat "$KV_DIR/greeting")"
check "kv get, store directly" "200 hello" "$(request 18081 GET /kv/greeting)"
check "kv overwrite" "200 stored greeting" "$(request PUT /kv/greeting "hello again")"
check "kv get after overwrite" "200 hello again" "$(request GET /kv/greeting)"
big=$(i=0; while [ $i -lt 200 ]; do printf 'line %s of a larger value\n' $i; i=$((i + 1)); done)
check "kv put, 5 KB value" "200 stored big" "$(request PUT /kv/big "$big")"
check "kv get, 5 KB value" "200 $big" "$(request GET /kv/big)"
check "kv missing key" "404 no key nothing" "$(request GET /kv/nothing)"
check "kv bad key" "400 keys are letters, digits, '_', '.', '-'" "$(request GET /kv/..)"
check "kv delete" "200 deleted greeting" "$(request DELETE /kv/greeting)"
check "kv get after delete" "404 no key greeting" "$(request GET /kv/greeting)"
check "kv wrong method" "405 GET, PUT or DELETE" "$(request 18081 POST /kv/greeting)"

# With the secret: health passes, and the secret check shows its digest, never the value.
printf 's3cr3t-value' > "$secret_dir/app_token"
digest=$(printf 's3cr3t-value' | sha256sum | cut -d' ' -f1)
check "health with the secret" "$(healthy)" "$(request GET /healthz)"
check "secret check: digest only" "200 app_token present sha256=$digest" "$(request GET /secret-check)"
case "$(request GET /secret-check)" in *s3cr3t*) check "secret value never shown" "hidden" "shown" ;; *) check "secret value never shown" "hidden" "hidden" ;; esac
stop "$web"

# A web service started without KV_URL says so.
KV_URL="" APP_REQUIRE_SECRET=0 /app/bin/app web 18080 2>/dev/null & web=$!
wait_for 18080
check "health when the secret is not required" "$(healthy)" "$(request GET /healthz)"
check "kv without KV_URL" "503 KV_URL is not set" "$(request GET /kv/greeting)"
stop "$kv"
KV_URL=http://127.0.0.1:18081 APP_REQUIRE_SECRET=0 /app/bin/app web 18082 2>/dev/null & web2=$!
wait_for 18082
check "kv service down" "502 kv unreachable at 127.0.0.1:18081" "$(request 18082 GET /kv/greeting)"
stop "$web" "$web2"

[ "${FAIL_TESTS:-0}" = 1 ] && check "deliberate failure (FAIL_TESTS=1)" "pass" "fail"
rm -rf "$KV_DIR" "$secret_dir"
echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
