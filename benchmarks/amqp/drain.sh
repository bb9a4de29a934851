#!/usr/bin/env bash
# AMQP ingress throughput: a Release silo drains a queue that already holds COUNT messages (published beforehand with
# the generator's --amqp), so the figure is the ingress's own rate, not the publisher's. Prints the rate from the
# first message taken in to the last, and the CPU the silo and RabbitMQ spent per 1,000 messages meanwhile.
# usage (from the repository root, after scripts/servers.sh and a Release build of Silo):
#   benchmarks/amqp/drain.sh QUEUE COUNT [further silo settings, e.g. --Brokers:Amqp:Credit=20000]
set -euo pipefail
queue=$1 count=$2
shift 2
port=${BENCH_PORT:-18081}
dir=$(mktemp -d /tmp/amqp-bench-XXXX)
dotnet Silo/bin/Release/net10.0/linux-x64/ClinicalTrials.Silo.dll --data-dir "$dir" --urls "http://127.0.0.1:$port" \
  --Orleans:SiloPort=21112 --Orleans:GatewayPort=31001 --Pipeline:ScheduleEnabled=false \
  --Brokers:Amqp:Address="amqp://guest:guest@127.0.0.1:${RABBITMQ_PORT:-5682}" --Brokers:Amqp:Queues:0="$queue" "$@" \
  > "$dir/silo.log" 2>&1 &
silo=$!
trap 'kill $silo 2> /dev/null || true' EXIT
# The silo's first start writes its admin key into the data directory; the stats need a staff credential.
received() { curl -sf -H "X-Api-Key: $(cat "$dir/admin.key")" "http://127.0.0.1:$port/api/clinical/stats" | sed -E 's/.*"total_received":([0-9]+).*/\1/'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
until [ "$(received 2> /dev/null || echo 0)" -gt 0 ]; do sleep 0.05; done
beam=$(cat ".servers/rabbitmq-${RABBITMQ_PORT:-5682}/rabbitmq.pid")
start=$(date +%s.%N) first=$(received) silo0=$(ticks $silo) beam0=$(ticks "$beam")
until [ "$(received)" -ge "$count" ]; do sleep 0.1; done
end=$(date +%s.%N) silo1=$(ticks $silo) beam1=$(ticks "$beam")
n=$((count - first))
echo "drained $n messages in $(echo "$end - $start" | bc) s: $(echo "$n / ($end - $start)" | bc) msg/s"
echo "CPU per 1,000 messages: silo $(echo "scale=3; ($silo1 - $silo0) * 10 / $n" | bc) s, RabbitMQ $(echo "scale=3; ($beam1 - $beam0) * 10 / $n" | bc) s"
