"""The original stack's streaming job, as scripts/bench-vs-spark runs it.

PySpark Structured Streaming on `local[2]`: the Kafka source (spark-sql-kafka)
reads the topic's JSON messages from the earliest offset with
`trigger(availableNow=True)` (everything there at start, then stop), VADER
3.3.2 labels each sentence in a Python UDF (or a pandas UDF), and the rows go
to a Cassandra table of the original schema (`id int PRIMARY KEY, sentence
text, sentimental_analysis text`) through the spark-cassandra-connector, or
to Spark's `noop` sink (the same work, nothing stored).

Prints one JSON object on stdout: rows, micro-batches, the time to build the
session and the time of the query alone (start() to the end of
awaitTermination()). The process's own launch-to-exit time, CPU and memory
are measured from outside (measure.py).
"""

import argparse
import json
import os
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

_analyzer = None


def label_of(sentence):
    """VADER's compound score read the usual way (>= 0.05 positive, <= -0.05 negative)."""
    global _analyzer
    if _analyzer is None:  # once per Python worker, not per row
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _analyzer = SentimentIntensityAnalyzer()
    if sentence is None:
        return None
    compound = _analyzer.polarity_scores(sentence)["compound"]
    if compound >= 0.05:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"


def label_series(sentences):
    """The pandas UDF's body: a pandas Series of sentences to a Series of labels."""
    return sentences.map(label_of)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", default="127.0.0.1:9092")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--sink", choices=["cassandra", "noop"], default="cassandra")
    parser.add_argument("--keyspace")
    parser.add_argument("--table")
    parser.add_argument("--cassandra-host", default="127.0.0.1")
    parser.add_argument("--cassandra-port", default="9042")
    parser.add_argument("--udf", choices=["python", "pandas"], default="python")
    parser.add_argument("--max-offsets", type=int, default=0,
                        help="maxOffsetsPerTrigger (0: unset, one micro-batch takes everything)")
    parser.add_argument("--concurrent-writes", type=int, default=0,
                        help="spark.cassandra.output.concurrent.writes (0: the connector's default, 5)")
    parser.add_argument("--grouping", default="",
                        help="spark.cassandra.output.batch.grouping.key (empty: the default, partition)")
    parser.add_argument("--log-level", default="ERROR")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--jars", required=True, help="comma-separated connector jars")
    parser.add_argument("--checkpoint", required=True)
    args = parser.parse_args()

    started = time.monotonic()
    builder = (
        SparkSession.builder.master(args.master)
        .appName("SentimentAnalysis")
        .config("spark.jars", args.jars)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Everything on the loopback interface, as every service of this project.
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        # Enough progress entries to count every micro-batch's rows.
        .config("spark.sql.streaming.numRecentProgressUpdates", "100000")
        .config("spark.cassandra.connection.host", args.cassandra_host)
        .config("spark.cassandra.connection.port", args.cassandra_port)
        .config("spark.cassandra.auth.username", os.environ.get("CASSANDRA_USERNAME", "cassandra"))
        .config("spark.cassandra.auth.password", os.environ.get("CASSANDRA_PASSWORD", "cassandra"))
    )
    if args.concurrent_writes:
        builder = builder.config("spark.cassandra.output.concurrent.writes", str(args.concurrent_writes))
    if args.grouping:
        builder = builder.config("spark.cassandra.output.batch.grouping.key", args.grouping)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(args.log_level)
    session_seconds = time.monotonic() - started

    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", args.brokers)
        .option("subscribe", args.topic)
        .option("startingOffsets", "earliest")
    )
    if args.max_offsets:
        reader = reader.option("maxOffsetsPerTrigger", str(args.max_offsets))
    schema = T.StructType([
        T.StructField("id", T.IntegerType()),
        T.StructField("sentence", T.StringType()),
    ])
    messages = (
        reader.load()
        .select(F.from_json(F.col("value").cast("string"), schema).alias("m"))
        .select("m.id", "m.sentence")
    )
    if args.udf == "pandas":
        label = F.pandas_udf(label_series, T.StringType())
    else:
        label = F.udf(label_of, T.StringType())
    rows = messages.withColumn("sentimental_analysis", label(F.col("sentence")))

    writer = rows.writeStream.trigger(availableNow=True).option("checkpointLocation", args.checkpoint)
    if args.sink == "cassandra":
        writer = (
            writer.format("org.apache.spark.sql.cassandra")
            .option("keyspace", args.keyspace)
            .option("table", args.table)
        )
    else:
        writer = writer.format("noop")

    query_started = time.monotonic()
    query = writer.start()
    query.awaitTermination()
    query_seconds = time.monotonic() - query_started
    if query.exception() is not None:
        print(f"error: the query failed: {query.exception()}", file=sys.stderr)
        sys.exit(1)
    progress = query.recentProgress
    rows_read = sum(p["numInputRows"] for p in progress)
    print(json.dumps({
        "rows": rows_read,
        "micro_batches": sum(1 for p in progress if p["numInputRows"] > 0),
        "session_seconds": session_seconds,
        "query_seconds": query_seconds,
        "query_rows_per_second": rows_read / query_seconds if query_seconds > 0 else 0.0,
    }))
    sys.stdout.flush()
    spark.stop()


if __name__ == "__main__":
    main()
