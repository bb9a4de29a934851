#!/usr/bin/env bash
# Starts the real servers the platform can be configured to use, so tests run against them. One function per server;
# add a server by adding a function and a call at the bottom.
# Idempotent: installs what is missing (apt-get), starts what is stopped, leaves running servers alone.
# Redis listens on 127.0.0.1:${REDIS_PORT:-6379}; s3rver (an S3-compatible server, npm) on 127.0.0.1:${S3_PORT:-4569} with
# the bucket ${S3_BUCKET:-clinical-lake}; their data and logs live under .servers/ (git-ignored).
# PostgreSQL: a private cluster (initdb, trust authentication on loopback only) on 127.0.0.1:${POSTGRES_PORT:-55432},
# run as the 'postgres' user with its data under .servers/, so it never touches the distribution's cluster.
# Kafka: librdkafka's mock cluster (tools/KafkaMock), bootstrap list in .servers/kafka/bootstrap (per $KAFKA_MOCK_NAME).
# RabbitMQ with the AMQP 1.0 plugin on 127.0.0.1:${RABBITMQ_PORT:-5682}, run from .servers/ as the current user.
# Also installs docker-compose (Debian's v1; no Docker engine needed) for the tests that validate deploy/docker-compose.yml,
# and promtool (Debian's prometheus package; its server is not started) for the tests that check deploy/prometheus/.
# And libgomp1 (OpenMP runtime) for the trainer's LightGBM.
# Exits non-zero when a server cannot be started or a tool cannot be installed.
# `bash scripts/servers.sh stop` stops the servers this script started (on the same ports); a failed test run leaves
# them running, holding their ports, until then. `bash scripts/servers.sh postgres redis` starts only the servers named
# (redis, s3rver, postgres, kafka, rabbitmq) and installs no tools.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

# Installs a Debian package when a command is missing; refreshes the package lists only if the first try fails.
# Further arguments go to apt-get install (--no-install-recommends).
apt_install() {
  local package=$1 log=$2
  shift 2
  if ! $sudo apt-get install -y "$@" "$package" > "$log" 2>&1; then
    echo "$package: install failed; refreshing the package lists and trying again"
    if ! { $sudo apt-get update && $sudo apt-get install -y "$@" "$package"; } >> "$log" 2>&1; then
      tail -n 20 "$log"
      echo "$package: could not be installed."
      return 1
    fi
  fi
}

# initdb and postgres refuse to run as root: run them as the 'postgres' user the package creates.
as_postgres() {
  if [ "$(id -un)" = "postgres" ]; then "$@"; elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

postgres_bin() { ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1 || true; }

start_redis() {
  local port=${REDIS_PORT:-6379}
  local dir="$PWD/.servers/redis-$port"
  mkdir -p "$dir"
  if ! command -v redis-server > /dev/null || ! command -v redis-cli > /dev/null; then
    echo "redis: not installed; installing redis-server (log: $dir/install.log)"
    apt_install redis-server "$dir/install.log" || return 1
    echo "redis: installed $(redis-server --version | awk '{print $3}')"
  fi

  redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2> /dev/null)" = "PONG" ]; }

  if redis_ping; then
    echo "redis: already running on 127.0.0.1:$port"
    return 0
  fi

  # A server already answering on the port (ours, or the distribution's service) is used as it is, above.
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" > /dev/null
  for _ in $(seq 1 50); do
    if redis_ping; then
      echo "redis: started on 127.0.0.1:$port (pid $(cat "$dir/redis.pid"), data and log under ${dir#"$PWD"/})"
      return 0
    fi
    sleep 0.2
  done
  tail -n 20 "$dir/redis.log" 2> /dev/null || true
  echo "redis: could not be started on 127.0.0.1:$port."
  return 1
}

start_postgres() {
  local port=${POSTGRES_PORT:-55432}
  local dir="$PWD/.servers/postgres-$port"
  mkdir -p "$dir"
  local bin
  bin=$(postgres_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "postgres: not installed; installing postgresql (log: $dir/install.log)"
    apt_install postgresql "$dir/install.log" || return 1
    bin=$(postgres_bin)
  fi

  pg_ready() { "$bin/pg_isready" -h 127.0.0.1 -p "$port" -q; }

  if pg_ready; then
    echo "postgres: already running on 127.0.0.1:$port"
    return 0
  fi

  chown postgres: "$dir" 2> /dev/null || $sudo chown postgres: "$dir"
  # A clone inside a private (0700) directory cannot be entered by the 'postgres' user: keep the data where it can.
  if ! as_postgres test -w "$dir"; then
    dir="/var/tmp/clinicaltrials-postgres-$port"
    mkdir -p "$dir"
    chown postgres: "$dir" 2> /dev/null || $sudo chown postgres: "$dir"
    echo "postgres: the 'postgres' user cannot reach .servers/ here; its data and log go to $dir"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 > "$dir/initdb.log" 2>&1 \
      || { tail -n 20 "$dir/initdb.log"; echo "postgres: initdb failed."; return 1; }
  fi

  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=300" start > /dev/null \
    || { tail -n 20 "$dir/postgres.log"; echo "postgres: could not be started on 127.0.0.1:$port."; return 1; }
  for _ in $(seq 1 50); do
    if pg_ready; then
      echo "postgres: started on 127.0.0.1:$port (data and log under ${dir#"$PWD"/})"
      return 0
    fi
    sleep 0.2
  done
  tail -n 20 "$dir/postgres.log" 2> /dev/null || true
  echo "postgres: could not be started on 127.0.0.1:$port."
  return 1
}

start_s3rver() {
  local port=${S3_PORT:-4569} bucket=${S3_BUCKET:-clinical-lake}
  local dir="$PWD/.servers/s3rver"   # the installation; each port's data, log and pid under s3rver-$port
  local run="$PWD/.servers/s3rver-$port"
  mkdir -p "$dir" "$run/data"
  if [ ! -x "$dir/node_modules/.bin/s3rver" ]; then
    if ! command -v npm > /dev/null; then
      echo "s3rver: npm is missing (install Node.js)."
      return 1
    fi
    echo "s3rver: not installed; npm install s3rver (log: $dir/install.log)"
    if ! (cd "$dir" && npm install --no-audit --no-fund --prefix "$dir" s3rver@3 > "$dir/install.log" 2>&1); then
      tail -n 20 "$dir/install.log"
      echo "s3rver: could not be installed."
      return 1
    fi
  fi

  s3_up() { curl -s -o /dev/null "http://127.0.0.1:$port/"; }

  if ! s3_up; then
    # --configure-bucket creates the bucket at start; a bucket already in the data folder is kept as it is.
    nohup "$dir/node_modules/.bin/s3rver" --address 127.0.0.1 --port "$port" --directory "$run/data" \
      --configure-bucket "$bucket" > "$run/s3rver.log" 2>&1 &
    echo $! > "$run/s3rver.pid"
    for _ in $(seq 1 50); do
      s3_up && break
      sleep 0.2
    done
    if ! s3_up; then
      tail -n 20 "$run/s3rver.log" 2> /dev/null || true
      echo "s3rver: could not be started on 127.0.0.1:$port."
      return 1
    fi
    echo "s3rver: started on 127.0.0.1:$port (pid $(cat "$run/s3rver.pid"), bucket $bucket, data and log under ${run#"$PWD"/})"
  else
    echo "s3rver: already running on 127.0.0.1:$port"
  fi
}

# A Kafka cluster for tests: librdkafka's mock cluster (3 brokers, the real Kafka protocol over TCP, in memory), run by
# tools/KafkaMock in a process of its own so that tests can kill silos without killing the broker. Its brokers take
# random ports on 127.0.0.1; the bootstrap list is written to .servers/kafka/bootstrap (.servers/kafka-$KAFKA_MOCK_NAME/
# with that variable set, for a cluster of its own). Data is lost when it stops.
start_kafka_mock() {
  local dir="$PWD/.servers/kafka${KAFKA_MOCK_NAME:+-$KAFKA_MOCK_NAME}"
  local dll="$PWD/tools/KafkaMock/bin/Release/net10.0/linux-x64/ClinicalTrials.KafkaMock.dll"
  mkdir -p "$dir"
  kafka_up() { [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2> /dev/null && [ -s "$dir/bootstrap" ]; }
  if kafka_up; then
    echo "kafka (mock): already running on $(cat "$dir/bootstrap")"
    return 0
  fi
  if [ ! -f "$dll" ]; then
    dotnet build tools/KafkaMock -c Release > "$dir/build.log" 2>&1 || { tail -n 20 "$dir/build.log"; echo "kafka (mock): build failed."; return 1; }
  fi
  rm -f "$dir/bootstrap"
  setsid nohup dotnet "$dll" "$dir/bootstrap" > "$dir/kafka.log" 2>&1 < /dev/null &
  echo $! > "$dir/kafka.pid"
  for _ in $(seq 1 100); do
    if kafka_up; then
      echo "kafka (mock): started on $(cat "$dir/bootstrap") (pid $(cat "$dir/kafka.pid"), log under ${dir#"$PWD"/})"
      return 0
    fi
    sleep 0.2
  done
  tail -n 20 "$dir/kafka.log" 2> /dev/null || true
  echo "kafka (mock): could not be started."
  return 1
}

# RabbitMQ with its AMQP 1.0 plugin (Debian's rabbitmq-server, installed when missing), for the AMQP ingress tests.
# Started as the current user straight from /usr/lib/rabbitmq/bin (the /usr/sbin wrappers switch to the 'rabbitmq'
# user), with its node name, ports, database, logs, Erlang cookie ($HOME) and config under .servers/rabbitmq-$port/:
# AMQP (0-9-1 and 1.0 share the listener) on 127.0.0.1:${RABBITMQ_PORT:-5682}, Erlang distribution on
# ${RABBITMQ_DIST_PORT:-port+1}, epmd (started by Erlang if none runs) bound to 127.0.0.1. User guest/guest (loopback
# only, RabbitMQ's default). Queues named clinical* dead-letter what a consumer rejects to the queue 'dead-letters'.
rabbitmq_env() {
  local port=$1 dir=$2
  echo HOME="$dir" RABBITMQ_NODENAME="clinical-$port@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="${RABBITMQ_DIST_PORT:-$((port + 1))}" \
    RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" ERL_EPMD_ADDRESS=127.0.0.1 ERL_CRASH_DUMP="$dir/log/erl_crash.dump"
}

rabbitmqctl_at() {
  local port=$1 dir=$2
  shift 2
  # shellcheck disable=SC2046 # the environment's words are KEY=VALUE pairs without spaces
  env $(rabbitmq_env "$port" "$dir") /usr/lib/rabbitmq/bin/rabbitmqctl -n "clinical-$port@localhost" "$@"
}

start_rabbitmq() {
  local port=${RABBITMQ_PORT:-5682}
  local dir="$PWD/.servers/rabbitmq-$port"
  mkdir -p "$dir/log"
  if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    echo "rabbitmq: not installed; installing rabbitmq-server (log: $dir/install.log)"
    apt_install rabbitmq-server "$dir/install.log" || return 1
  fi

  rabbitmq_up() { rabbitmqctl_at "$port" "$dir" status > /dev/null 2>&1; }
  # A node this script started from another checkout has that checkout's Erlang cookie, so rabbitmqctl cannot reach it
  # from here; it still answers on the port, and the dist port is taken: use it as it is, as for the other servers.
  rabbitmq_listening() { (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; }

  if rabbitmq_up; then
    echo "rabbitmq: already running on 127.0.0.1:$port"
    return 0
  fi
  if rabbitmq_listening; then
    echo "rabbitmq: a server already answers on 127.0.0.1:$port (started from another checkout); using it"
    return 0
  fi

  printf 'listeners.tcp.1 = 127.0.0.1:%s\n' "$port" > "$dir/rabbitmq.conf"
  echo '[rabbitmq_amqp1_0].' > "$dir/enabled_plugins"
  # Erlang's distribution listens on every interface unless told otherwise.
  echo 'SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"' > "$dir/rabbitmq-env.conf"
  # shellcheck disable=SC2046
  setsid nohup env $(rabbitmq_env "$port" "$dir") /usr/lib/rabbitmq/bin/rabbitmq-server > "$dir/log/console.log" 2>&1 < /dev/null &
  # `wait` waits for the pid file, then for the node to have started RabbitMQ: about 10 s on a quiet machine, over a
  # minute while test assemblies load both cores.
  if rabbitmqctl_at "$port" "$dir" --timeout 180 wait "$dir/rabbitmq.pid" > "$dir/log/await.log" 2>&1; then
    rabbitmqctl_at "$port" "$dir" set_policy clinical-dead-letter '^clinical' \
      '{"dead-letter-exchange":"","dead-letter-routing-key":"dead-letters"}' --apply-to queues > /dev/null
    echo "rabbitmq: started on 127.0.0.1:$port (pid $(cat "$dir/rabbitmq.pid"), AMQP 1.0, data and log under ${dir#"$PWD"/})"
    return 0
  fi
  tail -n 20 "$dir/log/console.log" "$dir/log/await.log" 2> /dev/null || true
  echo "rabbitmq: could not be started on 127.0.0.1:$port."
  return 1
}

# Not a server: Deploy.Tests run `docker-compose config` on deploy/docker-compose.yml and fail without it.
install_docker_compose() {
  local dir="$PWD/.servers/docker-compose"
  if command -v docker-compose > /dev/null; then
    return 0
  fi
  mkdir -p "$dir"
  echo "docker-compose: not installed; installing docker-compose (log: $dir/install.log)"
  apt_install docker-compose "$dir/install.log" || return 1
  echo "docker-compose: installed $(docker-compose version --short 2> /dev/null)"
}

# Not a server: Deploy.Tests run `promtool check config` / `check rules` on deploy/prometheus/ and fail without it.
# Debian ships promtool in the prometheus package (without its recommended exporters); nothing here starts its server.
install_promtool() {
  local dir="$PWD/.servers/promtool"
  if command -v promtool > /dev/null; then
    return 0
  fi
  mkdir -p "$dir"
  echo "promtool: not installed; installing prometheus (log: $dir/install.log)"
  apt_install prometheus "$dir/install.log" --no-install-recommends || return 1
  echo "promtool: installed $(promtool --version 2>&1 | head -n 1)"
}

# Not a server: the trainer's LightGBM (--algorithm lightgbm, and its tests) loads OpenMP's runtime (libgomp.so.1), which
# Debian ships as libgomp1; a library, not a command, so dpkg says whether it is there.
install_libgomp() {
  local dir="$PWD/.servers/libgomp"
  if dpkg -s libgomp1 > /dev/null 2>&1; then
    return 0
  fi
  mkdir -p "$dir"
  echo "libgomp1: not installed; installing libgomp1 (log: $dir/install.log)"
  apt_install libgomp1 "$dir/install.log" || return 1
  echo "libgomp1: installed $(dpkg-query -W -f='${Version}' libgomp1)"
}

# Stops what start_* started on these ports: the processes named in their pid files, PostgreSQL through pg_ctl.
stop_servers() {
  local redis_port=${REDIS_PORT:-6379} s3_port=${S3_PORT:-4569} pg_port=${POSTGRES_PORT:-55432}
  local name pidfile
  for entry in "redis:$PWD/.servers/redis-$redis_port/redis.pid" "s3rver:$PWD/.servers/s3rver-$s3_port/s3rver.pid" \
    "kafka (mock):$PWD/.servers/kafka${KAFKA_MOCK_NAME:+-$KAFKA_MOCK_NAME}/kafka.pid"; do
    name=${entry%%:*} pidfile=${entry#*:}
    if [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2> /dev/null; then
      echo "$name: stopped (pid $(cat "$pidfile"))"
    fi
    rm -f "$pidfile"
  done
  local rabbitmq_port=${RABBITMQ_PORT:-5682} rabbitmq_dir="$PWD/.servers/rabbitmq-${RABBITMQ_PORT:-5682}"
  if [ -f "$rabbitmq_dir/rabbitmq.pid" ] && rabbitmqctl_at "$rabbitmq_port" "$rabbitmq_dir" shutdown > /dev/null 2>&1; then
    echo "rabbitmq: stopped (pid $(cat "$rabbitmq_dir/rabbitmq.pid"))"
    rm -f "$rabbitmq_dir/rabbitmq.pid"
  fi
  for dir in "$PWD/.servers/postgres-$pg_port" "/var/tmp/clinicaltrials-postgres-$pg_port"; do
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_postgres "$(postgres_bin)/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null && echo "postgres: stopped (data under $dir)"
    fi
  done
}

if [ "${1:-}" = "stop" ]; then
  stop_servers
  exit 0
fi

if [ $# -gt 0 ]; then
  for server in "$@"; do
    case $server in
      redis) start_redis ;;
      s3rver) start_s3rver ;;
      postgres) start_postgres ;;
      kafka) start_kafka_mock ;;
      rabbitmq) start_rabbitmq ;;
      *) echo "servers.sh: unknown server '$server': name redis, s3rver, postgres, kafka or rabbitmq, or 'stop'."; exit 2 ;;
    esac
  done
  exit 0
fi

start_redis
start_s3rver
start_postgres
start_kafka_mock
start_rabbitmq
install_docker_compose
install_promtool
install_libgomp
