#!/usr/bin/env bash
# Instrumentation A/B (issue 18, docs/benchmarks.md): obs = this checkout (OpenTelemetry exporter on, /metrics scraped every 15 s),
# base = $BASE, a worktree of the same commit without AddClinicalTelemetry/MapClinicalMetrics, Silo built in Release.
# Usage: bash ab.sh seed; bash ab.sh ingest; RUNS="1 2 3 4 5" bash ab.sh predict. Alternating runs; needs wrk.
set -u
MAIN=$(cd "$(dirname "$0")/../.." && pwd); BASE=${BASE:-$MAIN/../wt-base}; AB=${AB:-/tmp/instrumentation-ab}; mkdir -p $AB; export AB
GEN=$MAIN/Generator/bin/Release/net10.0/linux-x64/ClinicalTrials.Generator.dll
TR=$MAIN/Trainer/bin/Release/net10.0/linux-x64/ClinicalTrials.Trainer.dll
PORT=18281; URL=http://127.0.0.1:$PORT
start_silo() { # ROOT DATA
  dotnet $1/Silo/bin/Release/net10.0/linux-x64/ClinicalTrials.Silo.dll --data-dir $2 --urls $URL --Pipeline:ScheduleEnabled=false \
    --Security:RateLimit:RequestsPerSecond=0 > $2.log 2>&1 &
  SILO=$!
  until curl -sf $URL/health/ready > /dev/null; do sleep 0.5; done
  KEY=$(cat $2/admin.key)
  (while sleep 15; do curl -s -o /dev/null -H "X-Api-Key: $KEY" $URL/metrics; done) &
  SCRAPER=$!
}
stop_silo() { kill $SCRAPER; kill $SILO; wait $SILO 2> /dev/null; }
ticks() { awk '{print $14 + $15}' /proc/$SILO/stat; }
root_of() { [ "$1" = obs ] && echo $MAIN || echo $BASE; }

seed() {
  rm -rf $AB/seed; start_silo $MAIN $AB/seed
  dotnet $GEN --url $URL --api-key "$KEY" --patients 300 --count 30000 --days 7 --rate max --batch-size 5000 --concurrency 2 > /dev/null
  curl -s -H "X-Api-Key: $KEY" -X POST $URL/api/pipeline/jobs/bronze-to-silver/run > /dev/null
  curl -s -H "X-Api-Key: $KEY" -X POST $URL/api/pipeline/jobs/offline-features/run > /dev/null
  dotnet $TR train --data-dir $AB/seed --api $URL --api-key "$KEY" --version bench-1 > $AB/train.log 2>&1
  curl -s -H "X-Api-Key: $KEY" -X POST $URL/api/models/bench-1/promote > /dev/null
  curl -s -H "X-Api-Key: $KEY" "$URL/api/patients?limit=300" | python3 -c "import json,sys; print('\n'.join(p['patient_id'] for p in json.load(sys.stdin)['patients']))" > $AB/patients.txt
  stop_silo
}

ingest() { # VARIANT RUN
  local data=$AB/ingest-$1-$2; rm -rf $data; start_silo $(root_of $1) $data
  local before=$(ticks)
  local out=$(dotnet $GEN --url $URL --api-key "$KEY" --rate max --warmup 20000 --count 200000 --batch-size 5000 --concurrency 4 --patients 2000 --invalid-share 0.02 --seed 1 2>&1 | grep "throughput (messages answered)")
  local after=$(ticks)
  echo "ingest $1 run $2: $out; silo cpu $(( (after - before) * 10000 / 220000 )) us/msg (ticks $((after - before)))"
  stop_silo; rm -rf $data $data.log
}

predict() { # VARIANT RUN
  local data=$AB/predict-$1-$2; rm -rf $data; cp -r $AB/seed $data; start_silo $(root_of $1) $data
  echo "$KEY" > $AB/key.txt
  wrk -t2 -c16 -d5s -s $MAIN/benchmarks/instrumentation/predict.lua $URL > /dev/null
  local before=$(ticks)
  local out=$(wrk -t2 -c16 -d20s --latency -s $MAIN/benchmarks/instrumentation/predict.lua $URL)
  local after=$(ticks)
  local rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); local n=$(echo "$out" | awk '/requests in/ {print $1}')
  local non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  echo "predict $1 run $2: $rps req/s, $n requests, non-2xx ${non2xx:-0}; silo cpu $(( (after - before) * 10000000 / n )) us/1000req (ticks $((after - before)))"
  stop_silo; rm -rf $data $data.log
}

case ${1:-all} in
  seed) seed ;;
  ingest) for r in 1 2 3; do ingest base $r; ingest obs $r; done ;;
  predict) for r in ${RUNS:-1 2 3}; do predict obs $r; predict base $r; done ;;
esac
