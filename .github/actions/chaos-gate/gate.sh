#!/usr/bin/env bash
# Chaos Negotiator deployment gate: signs a deployment request with the intake secret (HMAC-SHA256, sent as
# X-Hub-Signature-256), POSTs it to <url>/api/deployments, then polls <url>/api/contracts/<id> with its own read
# token until the contract is approved (exit 0), rejected (exit 1, with the reason) or the timeout passes (exit 1).
#
# The secret never appears on a command line (where other processes and audit logs could read it): the HMAC is
# computed per RFC 2104 with openssl hashing files, the padded key written by bash's printf builtin. The status
# polls send the read token (one of the bot's CHAOS_STATUS_TOKENS), never the HMAC key.
#
# Environment (set by action.yml; usable on its own):
#   CHAOS_URL               base URL of the bot, e.g. https://chaos.example.com           (required)
#   CHAOS_SECRET            the intake secret (CHAOS_INTAKE_SECRET of the bot)           (required)
#   CHAOS_STATUS_TOKEN      a read token for the status polls (CHAOS_STATUS_TOKENS)      (required)
#   CHAOS_REQUEST_FILE      a deployment request JSON file (the wire format), or else:
#   CHAOS_SERVICE, CHAOS_VERSION, CHAOS_ENVIRONMENT [, CHAOS_DEPLOYMENT_ID, CHAOS_PREVIOUS_VERSION]
#   CHAOS_TARGET_KIND       kubernetes | argo-rollouts | azure-container-apps (default kubernetes)
#   CHAOS_TARGET_NAMESPACE  namespace (or resource group) of the workload; required without a request file
#   CHAOS_TARGET_NAME       the Deployment / Flagger Canary / Rollout name; default the service name
#                           (with a request file, given target fields replace the file's)
#   CHAOS_DELIVERY_ID       idempotency key; default gh-<run id>-<attempt>-<job> inside GitHub Actions
#   CHAOS_TIMEOUT_MINUTES   default 60 (decimals allowed)
#   CHAOS_POLL_SECONDS      default 15 (decimals allowed)
#   CHAOS_JSON_TOOL         jq | node | python3 (default: the first one installed)
set -euo pipefail

fail() {
  printf '::error title=Chaos Negotiator::%s\n' "$*"
  exit 1
}
note() { printf '%s\n' "$*"; }

URL="${CHAOS_URL:-}"
SECRET="${CHAOS_SECRET:-}"
STATUS_TOKEN="${CHAOS_STATUS_TOKEN:-}"
[[ -n "$URL" ]] || fail "the url input is required"
[[ -n "$SECRET" ]] || fail "the secret input is required"
[[ -n "$STATUS_TOKEN" ]] || fail "the status-token input is required (one of the bot's CHAOS_STATUS_TOKENS)"
[[ "$STATUS_TOKEN" != "$SECRET" ]] || fail "status-token must not be the intake secret: give the polls a read token"
[[ "$URL" =~ ^https?://[^[:space:]]+$ ]] || fail "url must be an http(s) URL, got '$URL'"
URL="${URL%/}"
if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then
  echo "::add-mask::$SECRET"
  echo "::add-mask::$STATUS_TOKEN"
fi

TIMEOUT_MINUTES="${CHAOS_TIMEOUT_MINUTES:-60}"
POLL_SECONDS="${CHAOS_POLL_SECONDS:-15}"
[[ "$TIMEOUT_MINUTES" =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "timeout-minutes must be a number, got '$TIMEOUT_MINUTES'"
[[ "$POLL_SECONDS" =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "poll-seconds must be a number, got '$POLL_SECONDS'"
TIMEOUT_SECONDS=$(awk -v m="$TIMEOUT_MINUTES" 'BEGIN { s = m * 60; printf "%d", (s == int(s)) ? s : int(s) + 1 }')

for tool in curl openssl awk od; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is required on the runner"
done
JSON_TOOL="${CHAOS_JSON_TOOL:-}"
if [[ -z "$JSON_TOOL" ]]; then
  for candidate in jq node python3; do
    if command -v "$candidate" >/dev/null 2>&1; then
      JSON_TOOL="$candidate"
      break
    fi
  done
fi
[[ -n "$JSON_TOOL" ]] || fail "jq, node or python3 is needed to read the bot's JSON answers"

WORK=$(mktemp -d)
chmod 700 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# json_field FILE KEY: the top-level field KEY of the JSON in FILE as text (arrays joined with ", "), or nothing.
json_field() {
  case "$JSON_TOOL" in
    jq)
      jq -r --arg k "$2" '.[$k] // empty | if type == "array" then join(", ") else tostring end' "$1" 2>/dev/null || true
      ;;
    node)
      node -e '
        const fs = require("fs");
        try {
          const v = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))[process.argv[2]];
          if (v !== undefined && v !== null) process.stdout.write(Array.isArray(v) ? v.join(", ") : String(v));
        } catch {}' "$1" "$2"
      ;;
    python3)
      python3 -c '
import json, sys
try:
    v = json.load(open(sys.argv[1], encoding="utf-8")).get(sys.argv[2])
except Exception:
    v = None
if v is not None:
    sys.stdout.write(", ".join(map(str, v)) if isinstance(v, list) else (str(v).lower() if isinstance(v, bool) else str(v)))' "$1" "$2"
      ;;
    *) fail "CHAOS_JSON_TOOL must be jq, node or python3, got '$JSON_TOOL'" ;;
  esac
}

# set_target FILE KIND NAMESPACE NAME: writes `target` into the request JSON in FILE (the given fields replace the
# file's; empty ones are kept from it).
set_target() {
  case "$JSON_TOOL" in
    jq)
      jq --arg k "$2" --arg n "$3" --arg r "$4" '.target = ((.target // {}) + ({kind: $k, namespace: $n,
        resource_name: $r} | with_entries(select(.value != ""))))' "$1" >"$1.new"
      ;;
    node)
      node -e '
        const fs = require("fs");
        const [file, kind, namespace, name] = process.argv.slice(1);
        const request = JSON.parse(fs.readFileSync(file, "utf8"));
        const target = { ...(request.target ?? {}) };
        if (kind) target.kind = kind;
        if (namespace) target.namespace = namespace;
        if (name) target.resource_name = name;
        fs.writeFileSync(file + ".new", JSON.stringify({ ...request, target }));' "$1" "$2" "$3" "$4"
      ;;
    python3)
      python3 -c '
import json, sys
file, kind, namespace, name = sys.argv[1:5]
request = json.load(open(file, encoding="utf-8"))
target = dict(request.get("target") or {})
for key, value in (("kind", kind), ("namespace", namespace), ("resource_name", name)):
    if value:
        target[key] = value
request["target"] = target
json.dump(request, open(file + ".new", "w", encoding="utf-8"))' "$1" "$2" "$3" "$4"
      ;;
  esac
  mv "$1.new" "$1"
}

# hmac_sha256_hex FILE: HMAC-SHA256 (RFC 2104) of FILE keyed with $SECRET, without the key on any command line:
# printf is a bash builtin, openssl and od only read files.
hmac_sha256_hex() {
  local LC_ALL=C key="$WORK/hmac-key" ipad="" opad="" byte i hex
  local -a bytes
  printf '%s' "$SECRET" >"$key"
  if (($(wc -c <"$key") > 64)); then
    openssl dgst -sha256 -binary <"$key" >"$key.short"
    mv "$key.short" "$key"
  fi
  read -r -a bytes <<<"$(od -An -v -tu1 "$key" | tr -s ' \n' '  ')"
  rm -f "$key"
  for ((i = 0; i < 64; i++)); do
    byte=${bytes[i]:-0}
    printf -v hex '\\x%02x' $((byte ^ 0x36))
    ipad+=$hex
    printf -v hex '\\x%02x' $((byte ^ 0x5c))
    opad+=$hex
  done
  printf "$ipad" >"$WORK/hmac-ipad"
  printf "$opad" >"$WORK/hmac-opad"
  cat "$WORK/hmac-ipad" "$1" | openssl dgst -sha256 -binary >"$WORK/hmac-inner"
  cat "$WORK/hmac-opad" "$WORK/hmac-inner" | openssl dgst -sha256 -r | cut -d' ' -f1
  rm -f "$WORK/hmac-ipad" "$WORK/hmac-opad" "$WORK/hmac-inner"
}

# ------------------------------------------------------------------------------------------------------------------
# The request body

BODY="$WORK/request.json"
SAFE='^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$'
if [[ -n "${CHAOS_REQUEST_FILE:-}" ]]; then
  [[ -f "$CHAOS_REQUEST_FILE" ]] || fail "request-file '$CHAOS_REQUEST_FILE' does not exist"
  cp "$CHAOS_REQUEST_FILE" "$BODY"
  target_kind="${CHAOS_TARGET_KIND:-}"
  target_namespace="${CHAOS_TARGET_NAMESPACE:-}"
  target_name="${CHAOS_TARGET_NAME:-}"
else
  service="${CHAOS_SERVICE:-}"
  version="${CHAOS_VERSION:-}"
  environment="${CHAOS_ENVIRONMENT:-production}"
  [[ -n "$service" && -n "$version" ]] || fail "give request-file, or service and version (and environment)"
  deployment_id="${CHAOS_DEPLOYMENT_ID:-}"
  if [[ -z "$deployment_id" ]]; then
    deployment_id="$service-$environment-$version"
    if [[ -n "${GITHUB_RUN_ID:-}" ]]; then deployment_id="$deployment_id-run$GITHUB_RUN_ID"; fi
  fi
  target_kind="${CHAOS_TARGET_KIND:-kubernetes}"
  target_namespace="${CHAOS_TARGET_NAMESPACE:-}"
  target_name="${CHAOS_TARGET_NAME:-$service}"
  [[ -n "$target_namespace" ]] ||
    fail "target-namespace is required: the namespace where Flagger / Argo Rollouts run $target_name"
  for pair in "service:$service" "version:$version" "environment:$environment" "deployment-id:$deployment_id" \
    "previous-version:${CHAOS_PREVIOUS_VERSION:-x}"; do
    [[ "${pair#*:}" =~ $SAFE ]] || fail "${pair%%:*} must be letters, digits and . _ : @ / + - (got '${pair#*:}')"
  done
  # Every value matched SAFE above, so none needs JSON escaping.
  {
    printf '{"deployment_id":"%s","service_name":"%s","environment":"%s","version":"%s"' \
      "$deployment_id" "$service" "$environment" "$version"
    if [[ -n "${CHAOS_PREVIOUS_VERSION:-}" ]]; then printf ',"previous_version":"%s"' "$CHAOS_PREVIOUS_VERSION"; fi
    printf '}'
  } >"$BODY"
fi
K8S_NAME='^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$'
for pair in "target-namespace:$target_namespace" "target-name:$target_name"; do
  [[ -z "${pair#*:}" || "${pair#*:}" =~ $K8S_NAME ]] ||
    fail "${pair%%:*} must be a Kubernetes name (lowercase letters, digits, - and .), got '${pair#*:}'"
done
case "$target_kind" in
  "" | kubernetes | argo-rollouts | azure-container-apps | custom) ;;
  *) fail "target-kind must be kubernetes, argo-rollouts, azure-container-apps or custom, got '$target_kind'" ;;
esac
if [[ -n "$target_kind$target_namespace$target_name" ]]; then
  set_target "$BODY" "$target_kind" "$target_namespace" "$target_name"
fi

DELIVERY="${CHAOS_DELIVERY_ID:-}"
if [[ -z "$DELIVERY" && -n "${GITHUB_RUN_ID:-}" ]]; then
  DELIVERY="gh-${GITHUB_RUN_ID}-${GITHUB_RUN_ATTEMPT:-1}-${GITHUB_JOB:-job}"
fi
DELIVERY=$(printf '%s' "$DELIVERY" | tr -c 'A-Za-z0-9._:-' '-' | cut -c1-128)

SIGNATURE=$(hmac_sha256_hex "$BODY")
[[ "$SIGNATURE" =~ ^[0-9a-f]{64}$ ]] || fail "openssl did not produce an HMAC-SHA256"

# Headers go through files (mode 600), so neither the signature nor the read token shows up in the process list.
POST_HEADERS="$WORK/post-headers"
{
  printf 'content-type: application/json\n'
  printf 'x-hub-signature-256: sha256=%s\n' "$SIGNATURE"
  if [[ -n "$DELIVERY" ]]; then printf 'x-delivery-id: %s\n' "$DELIVERY"; fi
} >"$POST_HEADERS"
AUTH_HEADERS="$WORK/auth-headers"
printf 'authorization: Bearer %s\n' "$STATUS_TOKEN" >"$AUTH_HEADERS"
chmod 600 "$POST_HEADERS" "$AUTH_HEADERS"

# ------------------------------------------------------------------------------------------------------------------
# Announce (retrying rate limits, server errors and network failures; the delivery id makes retries idempotent)

RESPONSE="$WORK/response.json"
code=000
for attempt in 1 2 3 4 5; do
  code=$(curl -sS --max-time 30 -o "$RESPONSE" -w '%{http_code}' -X POST -H @"$POST_HEADERS" \
    --data-binary @"$BODY" "$URL/api/deployments" 2>"$WORK/curl.err") || code=000
  case "$code" in
    200 | 202) break ;;
    429 | 5?? | 000)
      note "attempt $attempt: HTTP $code from $URL/api/deployments"
      if ((attempt < 5)); then sleep $((attempt * 2)); fi
      ;;
    *)
      message=$(json_field "$RESPONSE" message)
      fail "the bot refused the deployment (HTTP $code): ${message:-$(head -c 300 "$RESPONSE")}"
      ;;
  esac
done
case "$code" in
  200 | 202) ;;
  000) fail "could not reach $URL: $(head -c 300 "$WORK/curl.err")" ;;
  *) fail "the bot did not accept the deployment (HTTP $code): $(json_field "$RESPONSE" message)" ;;
esac

CONTRACT_ID=$(json_field "$RESPONSE" contractId)
STATUS_URL=$(json_field "$RESPONSE" statusUrl)
CARD_URL=$(json_field "$RESPONSE" url)
[[ -n "$CONTRACT_ID" && "$STATUS_URL" == /* ]] || fail "unexpected answer from the bot: $(head -c 300 "$RESPONSE")"
CONTRACT_URL="${CARD_URL:-$URL$STATUS_URL}"
if [[ "$code" == 200 ]]; then note "deployment already announced as contract $CONTRACT_ID"; fi
note "contract $CONTRACT_ID announced: $CONTRACT_URL"

write_outputs() {
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    {
      printf 'contract-id=%s\n' "$CONTRACT_ID"
      printf 'contract-url=%s\n' "$CONTRACT_URL"
      printf 'state=%s\n' "$1"
    } >>"$GITHUB_OUTPUT"
  fi
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    printf 'Chaos Negotiator: contract [%s](%s) is **%s**\n' "$CONTRACT_ID" "$CONTRACT_URL" "$1" >>"$GITHUB_STEP_SUMMARY"
  fi
}

# ------------------------------------------------------------------------------------------------------------------
# Wait for the decision

deadline=$(($(date +%s) + TIMEOUT_SECONDS))
last_state=""
while :; do
  code=$(curl -sS --max-time 30 -o "$RESPONSE" -w '%{http_code}' -H @"$AUTH_HEADERS" "$URL$STATUS_URL" \
    2>"$WORK/curl.err") || code=000
  case "$code" in
    200)
      state=$(json_field "$RESPONSE" state)
      if [[ "$state" != "$last_state" ]]; then
        note "contract $CONTRACT_ID is $state"
        last_state="$state"
      fi
      case "$state" in
        approved | rolling_out | promoted)
          decided_by=$(json_field "$RESPONSE" decidedBy)
          write_outputs approved
          note "approved${decided_by:+ by $decided_by}: $CONTRACT_URL"
          exit 0
          ;;
        rejected | aborted | rolled_back)
          reason=$(json_field "$RESPONSE" reason)
          decided_by=$(json_field "$RESPONSE" decidedBy)
          write_outputs "$state"
          fail "contract $CONTRACT_ID was $state${decided_by:+ by $decided_by}: ${reason:-no reason given} ($CONTRACT_URL)"
          ;;
      esac
      ;;
    401 | 403) fail "the bot refused the status request (HTTP $code): check status-token (CHAOS_STATUS_TOKENS)" ;;
    404) fail "contract $CONTRACT_ID no longer exists on the bot" ;;
    *) note "status request answered HTTP $code; retrying" ;;
  esac
  if (($(date +%s) >= deadline)); then
    write_outputs timeout
    fail "no decision on contract $CONTRACT_ID within $TIMEOUT_MINUTES minutes (last state: ${last_state:-unknown}): $CONTRACT_URL"
  fi
  sleep "$POLL_SECONDS"
done
