#!/usr/bin/env python3
"""Train Spark ML ALS on ratings exported by recsys and save the model for recsys to serve.

Written against the PySpark 3.x API (pyspark.ml.recommendation.ALS; also valid on 4.x). Spark is
not installed where recsys is developed: this script is the documented other half of
`recsys export --format parquet` and `recsys import-model --format spark-als`.

Run (a local Spark; on a cluster give --master yarn / k8s://… and HDFS or S3 paths):

    recsys export --format parquet --data DATA --out ratings.parquet
    spark-submit --master 'local[*]' tools/spark/train_als.py \\
        --ratings ratings.parquet --out als-model --rank 10 --max-iter 10 --reg-param 0.1
    recsys import-model --format spark-als als-model --data DATA --reg-param 0.1 --out spark.rmodel
    RECSYS_MODEL=spark.rmodel RECSYS_DATA=DATA npm start

What it expects (--ratings): a Parquet file or folder with the columns recsys writes,
    user INT, movie INT, rating DOUBLE, date DATE (nullable; not used by ALS).
Other integer or floating types are cast (ids must fit Spark's int, as ALS requires).

What it writes (--out, a folder that must not exist unless --overwrite): exactly
ALSModel.save(OUT) of the model fitted on every rating:
    OUT/metadata/part-00000        one JSON line: class "org.apache.spark.ml.recommendation.ALSModel",
                                   timestamp, sparkVersion, uid, paramMap (userCol "user",
                                   itemCol "movie", coldStartStrategy, …), defaultParamMap, rank
    OUT/userFactors/part-*.parquet columns id (int: the raw user id), features (array<float>, rank long)
    OUT/itemFactors/part-*.parquet the same for movies
    _SUCCESS and .crc files beside them (the import ignores them).
The factors are written SNAPPY-compressed (the import reads SNAPPY, GZIP or uncompressed).
An ALSModel does not record regParam: pass the same value to import-model's --reg-param (it is
the λ of fold-in, x_u = (YᵀY + regParam·n_u·I)⁻¹ Yᵀr_u, Spark's own user update).

With --holdout F > 0 it first fits on all but a seeded fraction F and prints the RMSE on it (the
model it saves is still fitted on every rating, so every user and movie gets factors).
"""
import argparse
import json
import sys

from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.recommendation import ALS
from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def parse_args(argv):
    p = argparse.ArgumentParser(description="Train Spark ML ALS on recsys-exported ratings and save the ALSModel.")
    p.add_argument("--ratings", required=True, help="Parquet file or folder written by `recsys export --format parquet`")
    p.add_argument("--out", required=True, help="folder to save the ALSModel to (model.save)")
    p.add_argument("--rank", type=int, default=10, help="number of latent factors (Spark's default 10; recsys imports up to 1000)")
    p.add_argument("--max-iter", type=int, default=10, help="ALS iterations (Spark's default 10)")
    p.add_argument("--reg-param", type=float, default=0.1, help="regParam λ, scaled by each row's rating count (ALS-WR; Spark's default 0.1)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--holdout", type=float, default=0.0, help="also report the RMSE on this held-out fraction (0 = skip)")
    p.add_argument("--checkpoint-dir", help="checkpoint folder (long runs: truncates the lineage every 10 iterations)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    args = p.parse_args(argv)
    if not 1 <= args.rank <= 1000:
        p.error(f"--rank must be in 1..1000 (recsys refuses larger ranks), got {args.rank}")
    if args.max_iter < 1:
        p.error(f"--max-iter must be >= 1, got {args.max_iter}")
    if not args.reg_param > 0:
        p.error(f"--reg-param must be > 0, got {args.reg_param}")
    if not 0 <= args.holdout < 1:
        p.error(f"--holdout must be in [0, 1), got {args.holdout}")
    return args


def main(argv):
    args = parse_args(argv)
    spark = SparkSession.builder.appName("recsys-train-als").getOrCreate()
    # The factors must be readable by recsys' Parquet reader: SNAPPY (Spark's default, set anyway).
    spark.conf.set("spark.sql.parquet.compression.codec", "snappy")
    if args.checkpoint_dir:
        spark.sparkContext.setCheckpointDir(args.checkpoint_dir)

    raw = spark.read.parquet(args.ratings)
    missing = {"user", "movie", "rating"} - set(raw.columns)
    if missing:
        sys.exit(f"{args.ratings}: missing column(s) {', '.join(sorted(missing))}; recsys export --format parquet writes user, movie, rating, date")
    ratings = raw.select(F.col("user").cast("int").alias("user"), F.col("movie").cast("int").alias("movie"), F.col("rating").cast("float").alias("rating"))
    bad = ratings.filter(F.col("user").isNull() | F.col("movie").isNull() | F.col("rating").isNull() | F.isnan("rating")).count()
    if bad:
        sys.exit(f"{args.ratings}: {bad} row(s) with a null or out-of-int-range id or a null/NaN rating")
    ratings = ratings.cache()

    als = ALS(
        rank=args.rank,
        maxIter=args.max_iter,
        regParam=args.reg_param,
        userCol="user",
        itemCol="movie",
        ratingCol="rating",
        implicitPrefs=False,
        nonnegative=False,
        coldStartStrategy="drop",
        seed=args.seed,
    )

    report = {"ratings": ratings.count(), "rank": args.rank, "maxIter": args.max_iter, "regParam": args.reg_param, "seed": args.seed}
    if args.holdout > 0:
        train, test = ratings.randomSplit([1.0 - args.holdout, args.holdout], seed=args.seed)
        held = als.fit(train)
        evaluator = RegressionEvaluator(metricName="rmse", labelCol="rating", predictionCol="prediction")
        report["holdout"] = args.holdout
        report["holdoutRmse"] = evaluator.evaluate(held.transform(test))

    model = als.fit(ratings)
    writer = model.write()
    if args.overwrite:
        writer = writer.overwrite()
    writer.save(args.out)

    report["out"] = args.out
    report["import"] = f"recsys import-model --format spark-als {args.out} --data DATA --reg-param {args.reg_param} --out spark.rmodel"
    print(json.dumps(report, indent=2))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
