# shellcheck shell=bash disable=SC2034 # its variables are used by the scripts that source it
# Shared code of scripts/services, scripts/kafka, scripts/cqlsh and scripts/services-smoke-test.
# Sourced, never run. Everything it fetches or writes lives outside the repository:
#   $SENTIFLOW_CACHE (default ~/.cache/sentiflow): jars, Maven repos, the cqlsh virtualenv
#   $SENTIFLOW_RUN   (default $SENTIFLOW_CACHE/run): configs, data, logs, pid files

SERVICES_D=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------------------- versions
# Pinned; see docs/services.md ("Versions") for why these.
KAFKA_VERSION=${SENTIFLOW_KAFKA_VERSION:-4.3.1}
CASSANDRA_VERSION=${SENTIFLOW_CASSANDRA_VERSION:-5.0.9}
# Must equal the log4j2 version that kafka-server of that Kafka release declares.
case $KAFKA_VERSION in
  4.0.* | 4.1.*) KAFKA_LOG4J2_VERSION=2.24.3 ;;
  4.2.*) KAFKA_LOG4J2_VERSION=2.25.3 ;;
  4.3.*) KAFKA_LOG4J2_VERSION=2.25.4 ;;
  *) KAFKA_LOG4J2_VERSION=2.25.5 ;;
esac
CQLSH_VERSION=$(sed -n 's/^cqlsh==//p' "$SERVICES_D/cqlsh-requirements.txt")
# Pinned so that a bare `mvn` of any age behaves the same.
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

# ---------------------------------------------------------------------------- layout
SENTIFLOW_CACHE=${SENTIFLOW_CACHE:-$HOME/.cache/sentiflow}
SENTIFLOW_RUN=${SENTIFLOW_RUN:-$SENTIFLOW_CACHE/run}
KAFKA_HOME=$SENTIFLOW_CACHE/kafka-$KAFKA_VERSION
CASSANDRA_HOME=$SENTIFLOW_CACHE/cassandra-$CASSANDRA_VERSION
CQLSH_VENV=$SENTIFLOW_CACHE/cqlsh-$CQLSH_VERSION
KAFKA_RUN=$SENTIFLOW_RUN/kafka          # kafka/1node/node1, kafka/3nodes/node{1,2,3}
CASSANDRA_RUN=$SENTIFLOW_RUN/cassandra  # cassandra/node1

# ---------------------------------------------------------------------------- ports
# Fixed: the rest of the project and its docs rely on them.
KAFKA_PORT_BASE=9092             # node N: 9091+N
KAFKA_CONTROLLER_PORT_BASE=19092 # node N: 19091+N
CASSANDRA_CQL_PORT=9042
CASSANDRA_STORAGE_PORT=7000
CASSANDRA_JMX_PORT=7199

# Knobs (documented in docs/services.md).
KAFKA_HEAP=${SENTIFLOW_KAFKA_HEAP:-512m}
CASSANDRA_HEAP=${SENTIFLOW_CASSANDRA_HEAP:-1g}
KAFKA_TIMEOUT=${SENTIFLOW_KAFKA_TIMEOUT:-120}
CASSANDRA_TIMEOUT=${SENTIFLOW_CASSANDRA_TIMEOUT:-180}
MIN_FREE_MB=${SENTIFLOW_MIN_FREE_MB:-1024}
PROBE_TOPIC=_sentiflow_probe

# ---------------------------------------------------------------------------- messages
die() {
  echo "error: $*" >&2
  exit 1
}
info() { echo "$*"; }
warn() { echo "warning: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------- checks
# need_disk DIR MB WHAT: fail unless the file system holding DIR has MB MiB free.
need_disk() {
  local dir=$1 mb=$2 what=$3 free
  mkdir -p "$dir"
  free=$(df -Pk "$dir" | awk 'NR == 2 { print int($4 / 1024) }')
  if [[ -n $free && $free -lt $mb ]]; then
    die "not enough disk for $what: ${free} MiB free in $dir, need at least ${mb} MiB (free some space, or point SENTIFLOW_CACHE/SENTIFLOW_RUN elsewhere)"
  fi
}

# java_version JAVA: "MAJOR BUILD" of that java binary, e.g. "17 17.0.15+6-Debian-1deb12u1".
java_version() {
  "$1" -XshowSettings:properties -version 2>&1 | awk '
    /^ *java\.specification\.version = / { v = $3; sub(/^1\./, "", v); sub(/\..*/, "", v) }
    /^ *java\.runtime\.version = / { b = $3 }
    END { if (v != "") print v, b }'
}

# find_java kafka|cassandra: set JAVA to a java binary that this service supports.
# Kafka 4.x needs 17 or newer; Cassandra 5.0 runs on 11 or 17 only.
# Order: $SENTIFLOW_JAVA_HOME, $JAVA_HOME, java on PATH, then $SENTIFLOW_JVM_DIRS/*
# (default /usr/lib/jvm/*): the first suitable one wins.
find_java() {
  local svc=$1 cand major version seen=() candidates=()
  [[ -n ${SENTIFLOW_JAVA_HOME:-} ]] && candidates+=("$SENTIFLOW_JAVA_HOME/bin/java")
  [[ -n ${JAVA_HOME:-} ]] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(readlink -f "$(command -v java)")")
  local d
  for d in ${SENTIFLOW_JVM_DIRS:-/usr/lib/jvm}; do # where Debian/Ubuntu install JDKs
    for cand in "$d"/*/bin/java; do [[ -x $cand ]] && candidates+=("$cand"); done
  done
  for cand in "${candidates[@]}"; do
    [[ -x $cand ]] || continue
    version=$(java_version "$cand")
    major=${version%% *}
    [[ -n $major ]] || continue
    seen+=("$cand ($major)")
    case $svc:$major in
      kafka:1[7-9] | kafka:[2-9][0-9] | cassandra:11 | cassandra:17)
        JAVA=$cand
        # Names this exact JVM build (class-data archives are only valid for it).
        JAVA_ID=$(printf '%s %s' "$cand" "$version" | cksum | cut -d ' ' -f 1)
        return 0
        ;;
    esac
  done
  local need="Java 17 or newer (Kafka $KAFKA_VERSION)"
  [[ $svc == cassandra ]] && need="Java 11 or 17 (Cassandra $CASSANDRA_VERSION runs on no other)"
  if ((${#seen[@]} == 0)); then
    die "no Java found: $svc needs $need; install one (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"
  fi
  die "no suitable Java for $svc: it needs $need; found only: ${seen[*]}; install Java 17 or set SENTIFLOW_JAVA_HOME"
}

# port_owner PORT: empty if nothing listens on 127.0.0.1:PORT (or *:PORT), else who does.
port_owner() {
  local port=$1 line
  if command -v ss >/dev/null 2>&1; then
    # Only 127.0.0.1 or a wildcard address is in the way: other loopback
    # addresses (another run folder's cluster on 127.0.1.x) may share the port.
    line=$(ss -Hltnp "sport = :$port" 2>/dev/null |
      awk '$4 ~ /^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]|\[::1\]):/' | head -n 1)
    [[ -z $line ]] && return 0
    if [[ $line =~ users:\(\(\"([^\"]*)\",pid=([0-9]+) ]]; then
      echo "${BASH_REMATCH[1]} (pid ${BASH_REMATCH[2]})"
    else
      echo "another process"
    fi
  elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "another process"
  fi
}

# need_ports WHAT PORT...: fail with the port and its holder when one is taken.
need_ports() {
  local what=$1 port owner
  shift
  for port in "$@"; do
    owner=$(port_owner "$port")
    [[ -z $owner ]] || die "port $port (needed by $what) is already in use by $owner; stop it, or run 'scripts/services status' to see if it is ours"
  done
}

# tcp_open PORT: something accepts connections on 127.0.0.1:PORT.
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------------------- processes
# pid_of PIDFILE: print the pid if that process is alive and still ours (its command line
# names the pid file's folder, so a recycled pid is never mistaken for our server).
pid_of() {
  local pidfile=$1 pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(dirname "$pidfile")" || return 1
  echo "$pid"
}

# launch PIDFILE LOGFILE DIR CMD...: start CMD as a daemon in its own session (Ctrl-C in
# the terminal, or the end of the calling script, must not stop it), cwd DIR, stdin
# closed, output appended to LOGFILE, the lock fd closed so the daemon never holds it.
launch() {
  local pidfile=$1 log=$2 dir=$3
  shift 3
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  setsid bash -c 'echo $$ > "$0"; cd "$1" && shift 2 && exec "$@"' \
    "$pidfile" "$dir" -- "$@" </dev/null >>"$log" 2>&1 9>&- &
  for _ in {1..50}; do
    [[ -s $pidfile ]] && return 0
    sleep 0.1
  done
  die "could not start $1"
}

# stop_pid PIDFILE NAME TIMEOUT: SIGTERM, wait up to TIMEOUT s, then SIGKILL. Data kept.
stop_pid() {
  local pidfile=$1 name=$2 timeout=$3 pid t0
  pid=$(pid_of "$pidfile") || {
    rm -f "$pidfile"
    return 0
  }
  t0=$(now)
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      warn "$name (pid $pid) did not stop within ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
  info "stopped $name (pid $pid) in $(since "$t0")s"
}

# kill_pid PIDFILE NAME: SIGKILL at once (crash tests). Data kept.
kill_pid() {
  local pidfile=$1 name=$2 pid
  pid=$(pid_of "$pidfile") || {
    rm -f "$pidfile"
    return 0
  }
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$pidfile"
  info "killed $name (pid $pid) with SIGKILL"
}

# file_size FILE: bytes, 0 if missing (log offsets: we only look at lines written after a start).
file_size() { if [[ -f $1 ]]; then stat -c %s "$1"; else echo 0; fi; }

# log_has FILE OFFSET FIXED-STRING: the text appears in FILE after byte OFFSET.
log_has() { [[ -f $1 ]] && tail -c +"$(($2 + 1))" "$1" | grep -qF -- "$3"; }

# show_log_tail FILE [OFFSET]: for failure reports, the last 30 lines of what FILE got
# after byte OFFSET (that is, during this start; older runs are not shown).
show_log_tail() {
  local f=$1 offset=${2:-0}
  [[ -f $f ]] && (($(file_size "$f") > offset)) || return 0
  echo "----- $f (last 30 lines of this start)" >&2
  tail -c +"$((offset + 1))" "$f" | tail -n 30 >&2
  echo "-----" >&2
}

# render TEMPLATE OUT KEY=VALUE...: copy TEMPLATE to OUT replacing each @KEY@ by VALUE,
# literally (paths may hold any character). An unknown @KEY@ is an error.
render() {
  local tpl=$1 out=$2 kv args=()
  shift 2
  for kv in "$@"; do args+=("TPL_$kv"); done
  # shellcheck disable=SC2016 # awk code, not shell
  env "${args[@]}" awk '
    { line = $0; res = ""
      while (match(line, /@[A-Z_0-9]+@/)) {
        key = "TPL_" substr(line, RSTART + 1, RLENGTH - 2)
        if (!(key in ENVIRON)) { print "render: no value for " substr(line, RSTART, RLENGTH) > "/dev/stderr"; exit 1 }
        res = res substr(line, 1, RSTART - 1) ENVIRON[key]
        line = substr(line, RSTART + RLENGTH)
      }
      print res line }' "$tpl" >"$out.tmp"
  mv "$out.tmp" "$out"
}

# with_lock FILE CMD...: run CMD holding an exclusive lock on FILE (waits for it).
with_lock() {
  local lockfile=$1
  shift
  mkdir -p "$(dirname "$lockfile")"
  (
    flock -w 900 8 || die "timed out waiting for the lock $lockfile"
    "$@"
  ) 8>"$lockfile"
}

# ---------------------------------------------------------------------------- class-data sharing
# AppCDS: the first run of each kind of JVM (Kafka broker, Kafka tool, Cassandra) writes
# the classes it loaded into an archive when it exits; later runs map that archive instead
# of reading ~100 jars again: about a third off the start-up of the tools, the brokers and
# Cassandra on 2 cores. An archive is only valid for one JVM build and one jar set, so it
# is named after the JVM and kept beside the jars. SENTIFLOW_CDS=0 turns it off.
#   cds_opts HOME NAME TAG   sets CDS_OPTS: use the archive, or record one (into NAME.TAG)
#   cds_settle HOME NAME TAG after that JVM is gone: check the recorded archive, keep it
cds_file() { echo "$1/cds/$2-$JAVA_ID.jsa"; }

cds_opts() {
  local jsa
  CDS_OPTS=()
  [[ ${SENTIFLOW_CDS:-1} == 1 ]] || return 0
  jsa=$(cds_file "$1" "$2")
  if [[ -s $jsa ]]; then
    CDS_OPTS=(-XX:SharedArchiveFile="$jsa")
  else
    mkdir -p "$1/cds"
    CDS_OPTS=(-XX:ArchiveClassesAtExit="$jsa.$3")
  fi
}

# cds_settle HOME NAME TAG [JVM options the archive needs]: -Xshare:on makes the JVM fail
# on an archive it cannot use (cut short by a kill, another classpath), so only a good
# one is kept; the classpath is the same "<home>/lib/*" that the servers and tools use.
cds_settle() {
  local home=$1 name=$2 tag=$3 jsa
  shift 3
  jsa=$(cds_file "$home" "$name")
  [[ -e $jsa.$tag ]] || return 0
  if [[ ! -e $jsa ]] && "$JAVA" "$@" -XX:SharedArchiveFile="$jsa.$tag" -Xshare:on \
    -cp "$home/lib/*" -version >/dev/null 2>&1; then
    mv -f "$jsa.$tag" "$jsa"
  else
    rm -f "$jsa.$tag"
  fi
}

# ---------------------------------------------------------------------------- fetching
# mvn_fetch NAME POM LIBDIR -Dprop=value...: copy the POM's runtime jars into LIBDIR, once.
# Downloads into LIBDIR.partial and renames at the end: a half-done fetch is never used.
mvn_fetch() {
  local name=$1 pom=$2 libdir=$3
  shift 3
  [[ -f $libdir/.complete ]] && return 0
  command -v mvn >/dev/null 2>&1 ||
    die "Maven (mvn) not found: it is needed once to fetch the $name jars from Maven Central; install it (e.g. apt-get install maven)"
  find_java kafka >/dev/null # mvn itself needs a Java; the message is the same
  need_disk "$SENTIFLOW_CACHE" 600 "downloading $name"
  local home log t0
  home=$(dirname "$libdir")
  log=$home/fetch.log
  mkdir -p "$home"
  rm -rf "$libdir.partial"
  info "fetching $name jars from Maven Central (once; cached in $libdir) ..."
  t0=$(now)
  # Own local repository per service: two fetches can run at once (Maven 3.8's
  # local repository is not safe for concurrent writers), and deleting the cache
  # really starts from scratch.
  # -U: retry artifacts that an earlier (failed) attempt recorded as missing.
  if ! mvn -B -ntp -U -f "$pom" -Dmaven.repo.local="$home/m2" "$@" \
    "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$libdir.partial" >"$log" 2>&1; then
    local why
    why=$(grep -m 1 -E '^\[ERROR\] .' "$log" | sed 's/^\[ERROR\] //; s/ -> \[Help 1\]$//' || true)
    die "could not download the $name jars from Maven Central (or the mirror in ~/.m2/settings.xml) with mvn: ${why:-see the log}; full log: $log"
  fi
  mv "$libdir.partial" "$libdir"
  touch "$libdir/.complete"
  info "fetched $name: $(find "$libdir" -name '*.jar' | wc -l) jars, $(du -sh "$libdir" | cut -f1), in $(since "$t0")s"
}

fetch_kafka_locked() {
  mvn_fetch "Kafka $KAFKA_VERSION" "$SERVICES_D/kafka-libs.pom.xml" "$KAFKA_HOME/lib" \
    -Dkafka.version="$KAFKA_VERSION" -Dlog4j2.version="$KAFKA_LOG4J2_VERSION"
  # The jar list POM has no check that the main classes are there; do it once here.
  [[ -n $(find "$KAFKA_HOME/lib" -name "kafka_2.13-$KAFKA_VERSION.jar") ]] ||
    die "fetched Kafka jars lack kafka_2.13-$KAFKA_VERSION.jar (in $KAFKA_HOME/lib)"
}
fetch_kafka() { with_lock "$SENTIFLOW_CACHE/.fetch-kafka.lock" fetch_kafka_locked; }

fetch_cassandra_locked() {
  mvn_fetch "Cassandra $CASSANDRA_VERSION" "$SERVICES_D/cassandra-libs.pom.xml" "$CASSANDRA_HOME/lib" \
    -Dcassandra.version="$CASSANDRA_VERSION"
}
fetch_cassandra() { with_lock "$SENTIFLOW_CACHE/.fetch-cassandra.lock" fetch_cassandra_locked; }

# The cqlsh virtualenv, once per cqlsh version and Python version.
fetch_cqlsh_locked() {
  local py pyver log t0
  py=$(command -v python3 || true)
  [[ -n $py ]] || die "python3 not found: scripts/cqlsh needs Python 3.10+ (apt-get install python3 python3-venv)"
  pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    die "cqlsh $CQLSH_VERSION needs Python 3.10 or newer; python3 is $pyver"
  if [[ -f $CQLSH_VENV/.complete ]] && [[ $(<"$CQLSH_VENV/.complete") == "$pyver" ]]; then
    return 0
  fi
  need_disk "$SENTIFLOW_CACHE" 200 "the cqlsh virtualenv"
  log=$SENTIFLOW_CACHE/cqlsh-$CQLSH_VERSION.fetch.log
  info "installing cqlsh $CQLSH_VERSION from PyPI into $CQLSH_VENV (once) ..."
  t0=$(now)
  rm -rf "$CQLSH_VENV"
  mkdir -p "$SENTIFLOW_CACHE"
  "$py" -m venv "$CQLSH_VENV" >"$log" 2>&1 ||
    die "could not create a Python virtualenv with $py (on Debian: apt-get install python3-venv); see $log"
  if ! "$CQLSH_VENV/bin/pip" install --disable-pip-version-check --no-input \
    -r "$SERVICES_D/cqlsh-requirements.txt" >>"$log" 2>&1; then
    local why
    why=$(grep -m 1 -E '^ERROR: ' "$log" | sed 's/^ERROR: //' || true)
    die "could not download cqlsh $CQLSH_VERSION from PyPI (or the index in pip.conf / PIP_INDEX_URL) with pip: ${why:-see the log}; full log: $log"
  fi
  echo "$pyver" >"$CQLSH_VENV/.complete"
  info "installed cqlsh $CQLSH_VERSION in $(since "$t0")s"
}
fetch_cqlsh() { with_lock "$SENTIFLOW_CACHE/.fetch-cqlsh.lock" fetch_cqlsh_locked; }

# ---------------------------------------------------------------------------- clients
# Kafka CLI class for a tool name as in Kafka's bin/ (kafka-topics.sh -> topics).
kafka_tool_class() {
  case $1 in
    topics) echo org.apache.kafka.tools.TopicCommand ;;
    console-producer) echo org.apache.kafka.tools.ConsoleProducer ;;
    console-consumer) echo org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    console-share-consumer) echo org.apache.kafka.tools.consumer.ConsoleShareConsumer ;;
    consumer-groups) echo org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    share-groups) echo org.apache.kafka.tools.consumer.group.ShareGroupCommand ;;
    streams-groups) echo org.apache.kafka.tools.streams.StreamsGroupCommand ;;
    groups) echo org.apache.kafka.tools.GroupsCommand ;;
    metadata-quorum) echo org.apache.kafka.tools.MetadataQuorumCommand ;;
    get-offsets) echo org.apache.kafka.tools.GetOffsetShell ;;
    configs) echo kafka.admin.ConfigCommand ;;
    acls) echo org.apache.kafka.tools.AclCommand ;;
    broker-api-versions) echo org.apache.kafka.tools.BrokerApiVersionsCommand ;;
    cluster) echo org.apache.kafka.tools.ClusterTool ;;
    features) echo org.apache.kafka.tools.FeatureCommand ;;
    delete-records) echo org.apache.kafka.tools.DeleteRecordsCommand ;;
    log-dirs) echo org.apache.kafka.tools.LogDirsCommand ;;
    leader-election) echo org.apache.kafka.tools.LeaderElectionCommand ;;
    reassign-partitions) echo org.apache.kafka.tools.reassign.ReassignPartitionsCommand ;;
    transactions) echo org.apache.kafka.tools.TransactionsCommand ;;
    client-metrics) echo org.apache.kafka.tools.ClientMetricsCommand ;;
    delegation-tokens) echo org.apache.kafka.tools.DelegationTokenCommand ;;
    producer-perf-test) echo org.apache.kafka.tools.ProducerPerformance ;;
    consumer-perf-test) echo org.apache.kafka.tools.ConsumerPerformance ;;
    dump-log) echo org.apache.kafka.tools.DumpLogSegments ;;
    storage) echo kafka.tools.StorageTool ;;
    *) return 1 ;;
  esac
}

# kafka_java CLASS ARGS...: run a Kafka tool from the cached jars (fetched if needed).
# Short-lived tools get the client compiler only (-XX:TieredStopAtLevel=1): a third
# faster to start; the perf tests keep the full JIT so they measure the real thing.
kafka_java() {
  local class=$1 jit=(-XX:TieredStopAtLevel=1) rc=0
  shift
  [[ -n ${JAVA:-} && -n ${JAVA_ID:-} ]] || find_java kafka
  fetch_kafka >&2
  case $class in *Performance) jit=() ;; esac
  # One archive per tool: each loads its own set of classes.
  cds_opts "$KAFKA_HOME" "tool-${class##*.}" "$$"
  # JVM warnings go to stderr, never into the output; the class-data sharing chatter of
  # a tool's first run (the one that records its archive) goes nowhere.
  # shellcheck disable=SC2086 # SENTIFLOW_KAFKA_TOOL_OPTS is a list of JVM options
  "$JAVA" -Xmx512m -XX:+UseSerialGC "${jit[@]}" "${CDS_OPTS[@]}" \
    -Xlog:disable -Xlog:all=warning:stderr -Xlog:cds*=off:stderr \
    ${SENTIFLOW_KAFKA_TOOL_OPTS:-} -Dlog4j2.configurationFile="$SERVICES_D/log4j2-tools.properties" \
    -cp "$KAFKA_HOME/lib/*" "$class" "$@" || rc=$?
  cds_settle "$KAFKA_HOME" "tool-${class##*.}" "$$"
  return "$rc"
}

# cqlsh_run ARGS...: the pinned cqlsh (installed if needed).
cqlsh_run() {
  fetch_cqlsh >&2
  "$CQLSH_VENV/bin/cqlsh" "$@"
}
