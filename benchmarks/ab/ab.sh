#!/usr/bin/env bash
# A/B of this checkout ("full") against a baseline worktree of the same commit with one feature taken out ("base"),
# docs/benchmarks.md: instrumentation (issue 18) and authentication with audit (issue 13).
# Usage: bash ab.sh base instrumentation|security   (makes $BASE from HEAD, takes the feature out, builds it)
#        bash ab.sh seed; bash ab.sh ingest; RUNS="1 2 3 4 5" bash ab.sh predict; bash ab.sh latency
#        bash ab.sh logs   (this checkout alone, against the SQLite and the PostgreSQL prediction log: LOGS, RUNS)
# Runs alternate between the builds; needs wrk. BASE_ARGS: settings the base silo runs with (security: Security:Enabled=false).
set -u
MAIN=$(cd "$(dirname "$0")/../.." && pwd); BASE=${BASE:-$MAIN/../wt-base}; AB=${AB:-/tmp/clinical-ab}; mkdir -p $AB; export AB
BASE_ARGS=${BASE_ARGS:-}
GEN=$MAIN/Generator/bin/Release/net10.0/linux-x64/ClinicalTrials.Generator.dll
TR=$MAIN/Trainer/bin/Release/net10.0/linux-x64/ClinicalTrials.Trainer.dll
PORT=18281; URL=http://127.0.0.1:$PORT

base() { # FEATURE: the baseline worktree, the feature taken out by editing its source
  git -C $MAIN worktree add --detach $BASE HEAD || exit 1
  case $1 in
    # No OpenTelemetry listener, no /metrics: our instruments are still called, with nobody listening.
    instrumentation) sed -i '/builder.AddClinicalTelemetry();/d' $BASE/Silo/Hosting/ClinicalPlatformExtensions.cs
                     sed -i '/app.MapClinicalMetrics();/d' $BASE/Silo/Hosting/PlatformCommand.cs ;;
    # No audit filter on any endpoint; run it with BASE_ARGS=--Security:Enabled=false (no authentication either).
    security) sed -i 's|endpoint.FilterFactories.Add((_, next) => invocation => AuditedAsync(invocation, next, action));|endpoint.FilterFactories.Add((_, next) => next);|' \
                $BASE/Api/Security/EndpointAccess.cs ;;
    *) echo "base instrumentation|security" >&2; exit 2 ;;
  esac
  git -C $BASE diff --stat | grep -q changed || { echo "the feature was not found in $BASE" >&2; exit 1; }
  (cd $BASE && dotnet build -c Release Silo -p:TreatWarningsAsErrors=false > /dev/null) || exit 1
}

start_silo() { # ROOT DATA [SETTINGS...]
  local root=$1 data=$2; shift 2
  dotnet $root/Silo/bin/Release/net10.0/linux-x64/ClinicalTrials.Silo.dll --data-dir $data --urls $URL --Pipeline:ScheduleEnabled=false \
    --Security:RateLimit:RequestsPerSecond=0 "$@" > $data.log 2>&1 &
  SILO=$!
  until curl -sf $URL/health/ready > /dev/null; do sleep 0.5; done
  KEY=$(cat $data/admin.key 2> /dev/null || echo none)
  (while sleep 15; do curl -s -o /dev/null -H "X-Api-Key: $KEY" $URL/metrics; done) &
  SCRAPER=$!
}
stop_silo() { kill $SCRAPER; kill $SILO; wait $SILO 2> /dev/null; }
ticks() { awk '{print $14 + $15}' /proc/$SILO/stat; }
start_variant() { # VARIANT DATA
  if [ "$1" = full ]; then start_silo $MAIN $2; else start_silo $BASE $2 $BASE_ARGS; fi
}

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
  local data=$AB/ingest-$1-$2; rm -rf $data; start_variant $1 $data
  local before=$(ticks)
  local out=$(dotnet $GEN --url $URL --api-key "$KEY" --rate max --warmup 20000 --count 200000 --batch-size 5000 --concurrency 4 --patients 2000 --invalid-share 0.02 --seed 1 2>&1 | grep "throughput (messages answered)")
  local after=$(ticks)
  echo "ingest $1 run $2: $out; silo cpu $(( (after - before) * 10000 / 220000 )) us/msg (ticks $((after - before)))"
  stop_silo; rm -rf $data $data.log
}

predict() { # VARIANT RUN
  local data=$AB/predict-$1-$2; rm -rf $data; cp -r $AB/seed $data; start_variant $1 $data
  cp $AB/seed/admin.key $AB/key.txt
  wrk -t2 -c16 -d5s -s $MAIN/benchmarks/ab/predict.lua $URL > /dev/null
  local before=$(ticks)
  local out=$(wrk -t2 -c16 -d20s --latency -s $MAIN/benchmarks/ab/predict.lua $URL)
  local after=$(ticks)
  local rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); local n=$(echo "$out" | awk '/requests in/ {print $1}')
  local non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}'); local p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  echo "predict $1 run $2: $rps req/s, p99 $p99, $n requests, non-2xx ${non2xx:-0}; silo cpu $(( (after - before) * 10000000 / n )) us/1000req (ticks $((after - before)))"
  stop_silo; rm -rf $data $data.log
}

open_loop() { # /predict in the generator's open loop, 1,000 requests/s for 20 s: its latencies and failures
  local out=$(dotnet $GEN --url $URL --api-key "$(cat $AB/seed/admin.key)" --patients 300 --predict --rate 1000/s --count 20000 2>&1)
  echo "p50/p90/p99/p99.9/max $(echo "$out" | awk -F'│' '/latency p50/ {gsub(/ +/, " ", $3); print $3}')ms, failed $(echo "$out" | awk -F'│' '/failed/ {gsub(/ /, "", $3); print $3}')"
}

latency() { # VARIANT RUN
  local data=$AB/latency-$1-$2; rm -rf $data; cp -r $AB/seed $data; start_variant $1 $data
  echo "latency $1 run $2: $(open_loop)"
  stop_silo; rm -rf $data $data.log
}

logs() { # LOG RUN: this checkout with one prediction log (issue 21), authentication off: the open loop, then wrk at 1 and 16 connections
  local data=$AB/logs-$1-$2 extra=(); rm -rf $data; cp -r $AB/seed $data
  if [ $1 = postgres ]; then # PostgreSQL from scripts/servers.sh, a database of its own
    local db=predlog_${2}_$RANDOM; psql -h 127.0.0.1 -p 55432 -U postgres -qc "create database $db" > /dev/null || exit 1
    extra=(--ConnectionStrings:Postgres="Host=127.0.0.1;Port=55432;Username=postgres;Database=$db")
  fi
  start_silo $MAIN $data --Security:Enabled=false "${extra[@]}"
  cp $AB/seed/admin.key $AB/key.txt
  wrk -t2 -c16 -d5s -s $MAIN/benchmarks/ab/predict.lua $URL > /dev/null
  local open=$(open_loop) one=$(wrk -t1 -c1 -d20s --latency -s $MAIN/benchmarks/ab/predict.lua $URL) many=$(wrk -t2 -c16 -d20s --latency -s $MAIN/benchmarks/ab/predict.lua $URL)
  summary() { echo "$1" | awk '/Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} /Non-2xx/ {e=$5} END {print r " req/s, p50 " p50 ", p99 " p99 ", non-2xx " (e?e:0)}'; }
  echo "$1 log run $2 (load $(cut -d' ' -f1-3 /proc/loadavg)): open loop $open | 1 connection: $(summary "$one") | 16 connections: $(summary "$many")"
  stop_silo; rm -rf $data $data.log
}

case ${1:-} in
  base) base ${2:-} ;;
  seed) seed ;;
  ingest) for r in ${RUNS:-1 2 3}; do ingest base $r; ingest full $r; done ;;
  predict) for r in ${RUNS:-1 2 3}; do predict full $r; predict base $r; done ;;
  latency) for r in ${RUNS:-1 2 3}; do latency full $r; latency base $r; done ;;
  logs) for r in ${RUNS:-1}; do for log in ${LOGS:-sqlite postgres}; do logs $log $r; done; done ;;
  *) echo "usage: ab.sh base instrumentation|security | seed | ingest | predict | latency | logs" >&2; exit 2 ;;
esac
