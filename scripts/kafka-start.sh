#!/usr/bin/env bash
# Start a real single-node Apache Kafka 4.x broker (KRaft, combined broker+controller,
# no ZooKeeper, no Docker) on 127.0.0.1 for tests and local use.
#
# The broker's classpath comes from Maven Central (scripts/kafka/pom.xml) and is cached
# outside the repo; data, logs and the pid file live in the state dir.
# Idempotent: if the broker of this state dir is already running, it only checks it
# answers (and creates any missing KAFKA_TOPICS).
#
# Progress goes to stderr; the LAST line on stdout is exactly
#   KAFKA_BROKERS=127.0.0.1:<port>
# so callers can do:  eval "$(scripts/kafka-start.sh | tail -n1)"
#
# Environment:
#   KAFKA_VERSION            Kafka version from Maven Central (default 4.4.0)
#   KAFKA_CACHE_DIR          classpath cache (default ~/.cache/feature-store/kafka-<version>)
#   KAFKA_STATE_DIR          data + logs + pid file (default <project root>/.kafka)
#   KAFKA_PORT               PLAINTEXT listener on 127.0.0.1 (default 19092)
#   KAFKA_CONTROLLER_PORT    KRaft controller listener (default KAFKA_PORT+1)
#   KAFKA_TOPICS             comma list of topics to create if missing
#   KAFKA_TOPIC_PARTITIONS   partitions for KAFKA_TOPICS (default 3; replication is 1)
#   KAFKA_START_TIMEOUT      seconds to wait for the broker to answer (default 90)
#   KAFKA_HEAP_OPTS          broker heap (default "-Xms256m -Xmx512m")
#   KAFKA_JVM_OPTS           extra broker JVM options (default empty)
#   JAVA_HOME / JAVA         Java 17+ to use (default: java on PATH)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
PROJECT_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
CACHE_DIR="${KAFKA_CACHE_DIR:-$HOME/.cache/feature-store/kafka-$KAFKA_VERSION}"
STATE_DIR="${KAFKA_STATE_DIR:-$PROJECT_ROOT/.kafka}"
PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
TOPICS="${KAFKA_TOPICS:-}"
TOPIC_PARTITIONS="${KAFKA_TOPIC_PARTITIONS:-3}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
EXTRA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
POM="$SCRIPT_DIR/kafka/pom.xml"

log() { echo "[kafka-start] $*" >&2; }

die() { # configuration / usage errors
  _DIED=1
  log "ERROR: $*"
  exit 1
}

die_with_logs() { # the broker itself failed: show the end of its logs
  _DIED=1
  log "ERROR: $*"
  local f
  for f in "${STATE_DIR:-/nonexistent}/logs/server.log" "${STATE_DIR:-/nonexistent}/logs/kafka.out"; do
    if [[ -s "$f" ]]; then
      echo "----- tail -n 60 $f -----" >&2
      tail -n 60 "$f" >&2 || true
    fi
  done
  exit 1
}
trap 'rc=$?; if [[ $rc -ne 0 && -z "${_DIED:-}" ]]; then log "failed (exit $rc)"; fi' EXIT

[[ "$PORT" =~ ^[0-9]+$ && "$CONTROLLER_PORT" =~ ^[0-9]+$ ]] || die "KAFKA_PORT/KAFKA_CONTROLLER_PORT must be numbers"
[[ "$PORT" != "$CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"
[[ "$TOPIC_PARTITIONS" =~ ^[1-9][0-9]*$ ]] || die "KAFKA_TOPIC_PARTITIONS must be a positive number"
[[ "$START_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "KAFKA_START_TIMEOUT must be a positive number of seconds"

# ---------------------------------------------------------------- java
if [[ -n "${JAVA:-}" ]]; then :
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA="$(command -v java || true)"; fi
[[ -n "$JAVA" ]] || die "java not found (need Java 17+; set JAVA_HOME)"
JAVA_MAJOR="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1)"
JAVA_MAJOR="${JAVA_MAJOR#1.}"
[[ "$JAVA_MAJOR" =~ ^[0-9]+$ && "$JAVA_MAJOR" -ge 17 ]] || die "Kafka $KAFKA_VERSION needs Java 17+, $JAVA is '${JAVA_MAJOR:-unknown}' (set JAVA_HOME)"
JAVAC="$(dirname "$JAVA")/javac"

mkdir -p "$STATE_DIR/logs" "$CACHE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd -P)"
CACHE_DIR="$(cd "$CACHE_DIR" && pwd -P)"
LIBS="$CACHE_DIR/libs"
CP="$LIBS/*"
PID_FILE="$STATE_DIR/kafka.pid"
PROPS="$STATE_DIR/server.properties"
DATA_DIR="$STATE_DIR/data"
BOOTSTRAP="127.0.0.1:$PORT"

# One start at a time per state dir (fd 9 is closed for the broker itself).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$STATE_DIR/.start.lock"
  flock -w $((START_TIMEOUT + 120)) 9 || die "another kafka-start.sh holds $STATE_DIR/.start.lock"
fi

# ---------------------------------------------------------------- classpath (cached)
fetch_classpath() {
  if [[ -f "$LIBS/.complete" ]] && [[ "$(cat "$LIBS/.complete")" == "$KAFKA_VERSION" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: needed once to fetch Kafka $KAFKA_VERSION into $LIBS"
  [[ -f "$POM" ]] || die "missing $POM"
  (
    if command -v flock >/dev/null 2>&1; then
      exec 8>"$CACHE_DIR/.fetch.lock"
      flock -w 900 8 || exit 1
    fi
    [[ -f "$LIBS/.complete" ]] && [[ "$(cat "$LIBS/.complete")" == "$KAFKA_VERSION" ]] && exit 0
    log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION + runtime deps from Maven Central into $LIBS ..."
    local tmp="$CACHE_DIR/libs.tmp.$$"
    rm -rf "$tmp"
    local t0=$SECONDS
    if ! mvn -B -q -f "$POM" dependency:copy-dependencies \
          -Dkafka.version="$KAFKA_VERSION" -DincludeScope=runtime \
          -DoutputDirectory="$tmp" >"$CACHE_DIR/mvn.log" 2>&1; then
      tail -n 40 "$CACHE_DIR/mvn.log" >&2
      rm -rf "$tmp"
      exit 1
    fi
    ls "$tmp"/kafka_2.13-*.jar "$tmp"/kafka-tools-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; exit 1; }
    echo "$KAFKA_VERSION" >"$tmp/.complete"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    log "fetched $(find "$LIBS" -name "*.jar" | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $((SECONDS - t0))s"
  ) || die "could not fetch the Kafka classpath with mvn (see $CACHE_DIR/mvn.log)"
}
fetch_classpath

# ---------------------------------------------------------------- admin probe (compiled once)
# Waits until the broker answers Admin requests, then creates missing topics.
PROBE_SRC="$(cat <<'JAVA_EOF'
import java.util.*;
import java.util.concurrent.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;

public class LocalKafkaProbe {
  // args: <bootstrap> <timeoutSeconds> <partitions> <brokerPid or 0> [topic ...]
  public static void main(String[] a) throws Exception {
    String bootstrap = a[0];
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(a[1]));
    int partitions = Integer.parseInt(a[2]);
    long brokerPid = Long.parseLong(a[3]);
    List<String> topics = Arrays.asList(a).subList(4, a.length);
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "4000");
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "100");
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "feature-store-kafka-start");
    Throwable last = null;
    try (Admin admin = Admin.create(p)) {
      while (true) {
        try {
          DescribeClusterResult dc = admin.describeCluster();
          Collection<?> nodes = dc.nodes().get(4, TimeUnit.SECONDS);
          Set<String> existing = admin.listTopics().names().get(4, TimeUnit.SECONDS);
          if (!nodes.isEmpty()) {
            System.err.println("[kafka-start] broker answers: cluster " + dc.clusterId().get() + ", " + nodes.size() + " node(s)");
            List<NewTopic> create = new ArrayList<>();
            for (String t : topics) if (!t.isEmpty() && !existing.contains(t)) create.add(new NewTopic(t, partitions, (short) 1));
            if (!create.isEmpty()) {
              CreateTopicsResult r = admin.createTopics(create);
              for (Map.Entry<String, KafkaFuture<Void>> e : r.values().entrySet()) {
                try { e.getValue().get(30, TimeUnit.SECONDS); System.err.println("[kafka-start] created topic " + e.getKey() + " (" + partitions + " partitions)"); }
                catch (ExecutionException ex) {
                  if (ex.getCause() instanceof TopicExistsException) continue;
                  System.err.println("[kafka-start] could not create topic " + e.getKey() + ": " + ex.getCause());
                  System.exit(3);
                }
              }
            }
            for (String t : topics) if (!t.isEmpty() && existing.contains(t)) System.err.println("[kafka-start] topic " + t + " exists");
            System.exit(0);
          }
        } catch (ExecutionException | TimeoutException e) {
          last = e instanceof ExecutionException ? e.getCause() : e;
        }
        if (brokerPid > 0 && !ProcessHandle.of(brokerPid).map(ProcessHandle::isAlive).orElse(false)) {
          System.err.println("[kafka-start] broker process " + brokerPid + " exited");
          System.exit(4);
        }
        if (System.nanoTime() > deadline) break;
        Thread.sleep(250);
      }
    }
    System.err.println("[kafka-start] broker at " + bootstrap + " did not answer in time; last error: " + last);
    System.exit(2);
  }
}
JAVA_EOF
)"
PROBE_HASH="$(printf '%s' "$PROBE_SRC" | sha256sum | cut -c1-12)"
PROBE_DIR="$CACHE_DIR/probe-$PROBE_HASH"
if [[ ! -f "$PROBE_DIR/LocalKafkaProbe.class" ]]; then
  mkdir -p "$PROBE_DIR.tmp.$$"
  printf '%s\n' "$PROBE_SRC" >"$PROBE_DIR.tmp.$$/LocalKafkaProbe.java"
  if [[ -x "$JAVAC" ]]; then
    "$JAVAC" -nowarn -cp "$CP" -d "$PROBE_DIR.tmp.$$" "$PROBE_DIR.tmp.$$/LocalKafkaProbe.java" >&2 \
      || { rm -rf "$PROBE_DIR.tmp.$$"; die "could not compile the admin probe"; }
    rm -rf "$PROBE_DIR" && mv "$PROBE_DIR.tmp.$$" "$PROBE_DIR"
  else
    # no javac: keep the source and use Java's single-file source launcher
    mkdir -p "$PROBE_DIR" && cp "$PROBE_DIR.tmp.$$/LocalKafkaProbe.java" "$PROBE_DIR/" && rm -rf "$PROBE_DIR.tmp.$$"
  fi
fi

# ---------------------------------------------------------------- log4j2 configs
TOOLS_LOG4J="$STATE_DIR/tools-log4j2.properties"
cat >"$TOOLS_LOG4J" <<EOF
# log4j2 config for client tools/probe run against the local broker (errors to stderr only)
status = error
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = ERROR
rootLogger.appenderRef.err.ref = STDERR
EOF

probe() { # probe <timeoutSeconds> <brokerPid> [topic ...]
  local t="$1" pid="$2"; shift 2
  local main=LocalKafkaProbe
  [[ -f "$PROBE_DIR/LocalKafkaProbe.class" ]] || main="$PROBE_DIR/LocalKafkaProbe.java"
  "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
    -cp "$PROBE_DIR:$CP" "$main" "$BOOTSTRAP" "$t" "$TOPIC_PARTITIONS" "$pid" "$@" 9>&-
}

TOPIC_LIST=()
if [[ -n "$TOPICS" ]]; then
  IFS=',' read -r -a _raw <<<"$TOPICS"
  for t in "${_raw[@]}"; do
    t="${t//[[:space:]]/}"
    [[ -z "$t" ]] && continue
    [[ "$t" =~ ^[A-Za-z0-9._-]+$ ]] || die "invalid topic name '$t'"
    TOPIC_LIST+=("$t")
  done
fi

# ---------------------------------------------------------------- already running?
cmdline_of() {
  if [[ -r "/proc/$1/cmdline" ]]; then tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
  else ps -p "$1" -o args= 2>/dev/null || true; fi
}
is_our_broker() { # pid alive and is kafka.Kafka with this state dir's server.properties
  [[ "$1" =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null && [[ "$(cmdline_of "$1")" == *"kafka.Kafka $PROPS"* ]]
}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

finish() {
  _DIED=1
  echo "KAFKA_BROKERS=$BOOTSTRAP"
  exit 0
}

if [[ -f "$PID_FILE" ]]; then
  OLD_PID="$(tr -cd '0-9' <"$PID_FILE" || true)"
  if is_our_broker "$OLD_PID"; then
    RUNNING_PORT="$(sed -n 's#^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*#\1#p' "$PROPS" 2>/dev/null || true)"
    if [[ -n "$RUNNING_PORT" && "$RUNNING_PORT" != "$PORT" ]]; then
      die "broker of $STATE_DIR is already running (pid $OLD_PID) on port $RUNNING_PORT, not $PORT; run scripts/kafka-stop.sh first"
    fi
    log "broker already running (pid $OLD_PID), checking it answers on $BOOTSTRAP ..."
    rc=0; probe "$START_TIMEOUT" "$OLD_PID" ${TOPIC_LIST[@]+"${TOPIC_LIST[@]}"} || rc=$?
    case "$rc" in
      0) finish ;;
      3) die "broker is up at $BOOTSTRAP but creating KAFKA_TOPICS failed" ;;
      4) rm -f "$PID_FILE"; die_with_logs "broker pid $OLD_PID exited" ;;
      *) die_with_logs "broker pid $OLD_PID is running but does not answer on $BOOTSTRAP" ;;
    esac
  fi
  log "removing stale pid file (pid ${OLD_PID:-?} is not running)"
  rm -f "$PID_FILE"
fi

# A broker of this state dir running without pid file (e.g. pid file deleted)?
for p in $(pgrep -f "kafka.Kafka $PROPS" 2>/dev/null || true); do
  if is_our_broker "$p"; then
    die "a broker of $STATE_DIR runs as pid $p without pid file; stop it (kill $p) first"
  fi
done

if port_in_use "$PORT"; then die "127.0.0.1:$PORT is already in use by another process (set KAFKA_PORT)"; fi
if port_in_use "$CONTROLLER_PORT"; then die "127.0.0.1:$CONTROLLER_PORT (controller) is already in use (set KAFKA_CONTROLLER_PORT)"; fi

# ---------------------------------------------------------------- config
cat >"$PROPS" <<EOF
# Generated by scripts/kafka-start.sh on each start - edits are overwritten.
# Single-node KRaft: combined broker + controller, static quorum.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR

num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a kill -9 the controller refuses the restarted broker's registration until the old
# session expires (default 9 s); a shorter session makes such restarts faster.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=5000

# small footprint for a laptop / CI box
num.network.threads=2
num.io.threads=4
log.retention.hours=168
log.segment.bytes=134217728
EOF

BROKER_LOG4J="$STATE_DIR/log4j2.properties"
cat >"$BROKER_LOG4J" <<EOF
# log4j2 config for the local broker: everything to $STATE_DIR/logs/server.log
status = warn
name = feature-store-kafka
# keep logging through the broker's own shutdown (its SIGTERM handler logs after JVM hooks start)
shutdownHook = disable
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = $STATE_DIR/logs/server.log
appender.file.filePattern = $STATE_DIR/logs/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF

# ---------------------------------------------------------------- format storage (once)
if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
  log "formatting KRaft storage in $DATA_DIR ..."
  CLUSTER_ID="$("$JAVA" -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$CP" kafka.tools.StorageTool random-uuid 9>&- | tail -n1 | tr -d '[:space:]')"
  [[ -n "$CLUSTER_ID" ]] || die "could not generate a cluster id"
  "$JAVA" -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$CP" kafka.tools.StorageTool \
    format -t "$CLUSTER_ID" -c "$PROPS" --ignore-formatted >&2 9>&- \
    || die_with_logs "kafka-storage format failed"
  echo "$CLUSTER_ID" >"$STATE_DIR/cluster-id"
fi

# ---------------------------------------------------------------- start
log "starting Kafka $KAFKA_VERSION on $BOOTSTRAP (controller 127.0.0.1:$CONTROLLER_PORT), state $STATE_DIR"
SETSID=()
command -v setsid >/dev/null 2>&1 && SETSID=(setsid)
# shellcheck disable=SC2086
nohup ${SETSID[@]+"${SETSID[@]}"} "$JAVA" $HEAP_OPTS \
  -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
  -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="$BROKER_LOG4J" \
  -Dkafka.logs.dir="$STATE_DIR/logs" \
  $EXTRA_JVM_OPTS \
  -cp "$CP" kafka.Kafka "$PROPS" \
  >>"$STATE_DIR/logs/kafka.out" 2>&1 </dev/null 9>&- &
BROKER_PID=$!
echo "$BROKER_PID" >"$PID_FILE"
log "broker pid $BROKER_PID; waiting up to ${START_TIMEOUT}s for it to answer ..."

T0=$SECONDS
# Don't start the (JVM) probe before the process has had a moment, and notice early death.
for _ in $(seq 1 20); do
  kill -0 "$BROKER_PID" 2>/dev/null || break
  port_in_use "$PORT" && break
  sleep 0.25
done
kill -0 "$BROKER_PID" 2>/dev/null || { rm -f "$PID_FILE"; die_with_logs "broker exited during startup"; }

REMAINING=$((START_TIMEOUT - (SECONDS - T0)))
((REMAINING < 5)) && REMAINING=5
rc=0; probe "$REMAINING" "$BROKER_PID" ${TOPIC_LIST[@]+"${TOPIC_LIST[@]}"} || rc=$?
case "$rc" in
  0) log "broker ready after $((SECONDS - T0))s"; finish ;;
  3) die "broker is up at $BOOTSTRAP (pid $BROKER_PID) but creating KAFKA_TOPICS failed" ;;
esac

_DIED=1
if kill -0 "$BROKER_PID" 2>/dev/null; then
  log "broker did not become ready; stopping pid $BROKER_PID"
  kill -TERM "$BROKER_PID" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$BROKER_PID" 2>/dev/null || true
  rm -f "$PID_FILE"
  die_with_logs "Kafka broker did not answer on $BOOTSTRAP within ${START_TIMEOUT}s"
fi
rm -f "$PID_FILE"
die_with_logs "Kafka broker process exited during startup"
