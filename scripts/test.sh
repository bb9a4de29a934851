#!/usr/bin/env bash
# Runs every test of the solution and ends with one line "N passed, N failed[, N skipped]".
# Exits non-zero when any test fails or the build breaks.
set -uo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results=$(mktemp -d)
log="$results/test.log"

echo "Building (Release)..."
if ! dotnet build ClinicalTrials.sln -c Release > "$log.build" 2>&1; then
  grep -E " error " "$log.build" | sort -u | head -50
  echo "The build failed."
  echo "0 passed, 1 failed"
  exit 1
fi

# Tests that need a real server use the ones this script starts; with the variable set, a missing server fails them.
echo "Starting servers..."
if ! bash scripts/servers.sh; then
  echo "A server the tests need could not be started."
  echo "0 passed, 1 failed"
  exit 1
fi
export CLINICAL_TEST_REDIS="127.0.0.1:${REDIS_PORT:-6379}"
export CLINICAL_TEST_POSTGRES="Host=127.0.0.1;Port=${POSTGRES_PORT:-55432};Username=postgres;Database=postgres"
export CLINICAL_TEST_S3="http://127.0.0.1:${S3_PORT:-4569}"
# A real Kafka when KAFKA_BOOTSTRAP_SERVERS is set, else the mock cluster servers.sh started.
export CLINICAL_TEST_KAFKA="${KAFKA_BOOTSTRAP_SERVERS:-$(cat .servers/kafka/bootstrap)}"

# RabbitMQ (AMQP 1.0) as servers.sh started it: user guest, loopback only.
export CLINICAL_TEST_AMQP="amqp://guest:guest@127.0.0.1:${RABBITMQ_PORT:-5682}"

dotnet test ClinicalTrials.sln -c Release --no-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# VSTest prints one summary per test assembly: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ..."
read -r passed failed skipped < <(grep -E "^(Passed|Failed)!" "$log" | awk -F'[:,]' '
  { for (i = 1; i < NF; i++) {
      if ($i ~ /Failed$/) f += $(i+1); if ($i ~ /Passed$/) p += $(i+1); if ($i ~ /Skipped$/) s += $(i+1) } }
  END { print p+0, f+0, s+0 }')
assemblies=$(grep -cE "^(Passed|Failed)!" "$log")

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # the runner failed without a test failing (a crash, an aborted run): never report green
fi
if [ "$assemblies" -eq 0 ]; then
  failed=$((failed + 1))
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
