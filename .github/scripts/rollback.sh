#!/usr/bin/env bash
# Rolls the alias `live` back to the version that served traffic before the current one (or
# to $WANTED), for .github/workflows/rollback.yml. Environment: FUNCTION, APPLICATION and
# GROUP (CodeDeploy), STACK (CloudFormation), WANTED (optional), AWS credentials.
#
# - Refuses while a CodeDeploy deployment of the group is in flight: its traffic shift would
#   overwrite the rollback (the workflows also share one concurrency group).
# - "Previous" comes from CodeDeploy's history, not from version numbers: a version whose
#   pre-traffic dry run failed stays published (versions are retained) but never served.
#   The newest succeeded deployment whose target is the current version names, as its
#   CurrentVersion, the version live before it.
# - Re-applies the async-invoke settings (retries, maximum age, the dead-letter destination)
#   to the target first: CloudFormation keeps one config for the current version and deletes
#   the old version's on every deploy, so a rolled-back version would run with Lambda's
#   defaults. The values are the stack's (infra/lib/stockpicks-stack.ts, asyncOptions; the
#   infra test rollback.test.ts keeps them equal).
set -euo pipefail
: "${FUNCTION:?}" "${APPLICATION:?}" "${GROUP:?}" "${STACK:?}"
WANTED="${WANTED:-}"
RETRIES=2
MAX_AGE_SECS=3600

inflight=$(aws deploy list-deployments --application-name "$APPLICATION" --deployment-group-name "$GROUP" \
  --include-only-statuses Created Queued InProgress Baking Ready --query 'deployments' --output text)
if [ -n "$inflight" ] && [ "$inflight" != "None" ]; then
  echo "refusing to roll back: CodeDeploy deployment(s) in progress: $inflight" >&2
  exit 1
fi

current=$(aws lambda get-alias --function-name "$FUNCTION" --name live --query FunctionVersion --output text)
if [ -n "$WANTED" ]; then
  [[ "$WANTED" =~ ^[0-9]+$ ]] || { echo "version must be a number: $WANTED" >&2; exit 1; }
  target="$WANTED"
else
  history=""
  for id in $(aws deploy list-deployments --application-name "$APPLICATION" --deployment-group-name "$GROUP" \
      --include-only-statuses Succeeded --query 'deployments' --output text); do
    [ "$id" = "None" ] && continue
    history+="$(aws deploy get-deployment --deployment-id "$id" --output json)"$'\n'
  done
  target=$(CURRENT="$current" python3 -c '
import json, os, re, sys
rows = []
for line in sys.stdin.read().splitlines():
    if not line.strip():
        continue
    info = json.loads(line)["deploymentInfo"]
    content = ((info.get("revision") or {}).get("appSpecContent") or {}).get("content", "")
    # The AppSpec (JSON or YAML) names the versions the deployment moved the alias between.
    cur = re.search(r"CurrentVersion\W+(\d+)", content)
    tgt = re.search(r"TargetVersion\W+(\d+)", content)
    if cur and tgt:
        rows.append((str(info.get("createTime", "")), cur.group(1), tgt.group(1)))
rows.sort(reverse=True)
print(next((c for _, c, t in rows if t == os.environ["CURRENT"]), ""))
' <<< "$history")
fi
if [ -z "$target" ]; then
  echo "no succeeded CodeDeploy deployment moved live to version $current: give the version to roll back to" >&2
  exit 1
fi
[ "$target" != "$current" ] || { echo "live is already on version $target" >&2; exit 1; }

dlq=$(aws cloudformation describe-stacks --stack-name "$STACK" \
  --query "Stacks[0].Outputs[?OutputKey=='DeadLetterQueueArn'].OutputValue" --output text)
[[ "$dlq" == arn:* ]] || { echo "stack $STACK has no DeadLetterQueueArn output" >&2; exit 1; }
aws lambda put-function-event-invoke-config --function-name "$FUNCTION" --qualifier "$target" \
  --maximum-retry-attempts "$RETRIES" --maximum-event-age-in-seconds "$MAX_AGE_SECS" \
  --destination-config "{\"OnFailure\":{\"Destination\":\"$dlq\"}}" > /dev/null
aws lambda update-alias --function-name "$FUNCTION" --name live --function-version "$target" > /dev/null
echo "live: $current -> $target"
