#!/usr/bin/env bash
# /predict against both prediction logs (docs/benchmarks.md, issue 21): the generator's open loop at 1,000/s, then wrk
# at 1 and 16 connections, on a copy of the data directory `ab.sh seed` made; PostgreSQL from scripts/servers.sh.
# Usage: bash predict-logs.sh            (LOGS="sqlite postgres", RUNS="1")
set -u
MAIN=$(cd "$(dirname "$0")/../.." && pwd); export AB=${AB:-/tmp/clinical-ab}; URL=http://127.0.0.1:18291
GEN=$MAIN/Generator/bin/Release/net10.0/linux-x64/ClinicalTrials.Generator.dll
cp $AB/seed/admin.key $AB/key.txt
summary() { echo "$1" | awk '/Requests\/sec/ {r=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} /Non-2xx/ {e=$5} END {print r " req/s, p50 " p50 ", p99 " p99 ", non-2xx " (e?e:0)}'; }
for log in ${LOGS:-sqlite postgres}; do
  for run in ${RUNS:-1}; do
    data=$AB/logs-$log-$run; rm -rf $data; cp -r $AB/seed $data
    extra=()
    if [ $log = postgres ]; then
      db=predlog_${run}_$RANDOM; psql -h 127.0.0.1 -p 55432 -U postgres -qc "create database $db" > /dev/null || exit 1
      extra=(--ConnectionStrings:Postgres="Host=127.0.0.1;Port=55432;Username=postgres;Database=$db")
    fi
    dotnet $MAIN/Silo/bin/Release/net10.0/linux-x64/ClinicalTrials.Silo.dll --data-dir $data --urls $URL --Pipeline:ScheduleEnabled=false \
      --Security:RateLimit:RequestsPerSecond=0 --Security:Enabled=false "${extra[@]}" > $data.log 2>&1 &
    SILO=$!
    until curl -sf $URL/health/ready > /dev/null; do sleep 0.5; done
    wrk -t2 -c16 -d5s -s $MAIN/benchmarks/ab/predict.lua $URL > /dev/null
    open=$(dotnet $GEN --url $URL --api-key none --patients 300 --predict --rate 1000/s --count 20000 2>&1 | awk -F'│' '/latency p50/ {gsub(/ +/, " ", $3); print $3}')
    one=$(wrk -t1 -c1 -d20s --latency -s $MAIN/benchmarks/ab/predict.lua $URL)
    many=$(wrk -t2 -c16 -d20s --latency -s $MAIN/benchmarks/ab/predict.lua $URL)
    echo "$log run $run (load $(cut -d' ' -f1-3 /proc/loadavg)): open loop 1000/s p50/p90/p99/p99.9/max $open ms | 1 conn: $(summary "$one") | 16 conn: $(summary "$many")"
    kill $SILO; wait $SILO 2> /dev/null
    rm -rf $data $data.log
  done
done
