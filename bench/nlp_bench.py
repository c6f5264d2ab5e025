"""Benchmark of nlp/: real-data accuracy, the default model against snownlp, holdout, speed.

Run from the repo root:  python bench/nlp_bench.py [--quick] [--compare] [--skip-snownlp]
                         [--classifier joint|nblr|...] [--real-data-only]
Reads ../shared/data (never copied into the repo) and data/nlp/{seed,holdout}. Prints the
machine, every measurement, and a markdown table for the README. Medians over repeats.
"""

from __future__ import annotations

# ruff: noqa: E402  (thread limits must be set before numpy is imported)
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # single-core figures: set before numpy loads

import argparse
import gc
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, recall_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nlp import DEFAULT_CONFIG, TRAIN_CONFIG, MessageClassifier, default_model, read_csv
from nlp.build import config_for, nlp_resources, seed_corpus, train_model
from nlp.corpus import csv_files, read_csvs
from nlp.labels import HEADS
from nlp.model import library_versions
from nlp.normalize import normalize
from nlp.segment import Segmenter
from nlp.train import TrainConfig

SHARED = REPO.parent / "shared" / "data"
DATA = REPO / "data"
WEIBO_POLARITY = {"happy": "正面", "neutral": "中性", "angry": "负面", "sad": "负面", "fear": "负面"}

rows: list[tuple[str, str, str, str]] = []  # (measure, ours, target, reference)


def record(measure: str, ours: str, target: str = "", reference: str = "") -> None:
    rows.append((measure, ours, target, reference))
    print(f"  {measure}: {ours}" + (f"   (target {target})" if target else ""), flush=True)


def machine() -> None:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    print("## Machine")
    print(f"  CPU: {cpu}; cores: {os.cpu_count()}; {platform.system()} {platform.release()}")
    print(
        f"  Python {platform.python_version()}; "
        + ", ".join(f"{k} {v}" for k, v in library_versions().items() if k != "python")
    )
    print("  threads: OMP/OPENBLAS/MKL limited to 1 (single-core figures)")


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def resources() -> tuple[Path, Path]:
    return nlp_resources(DATA)


def real_data(quick: bool, cache: Path, config: TrainConfig = TRAIN_CONFIG) -> None:
    print("\n## (a) Training pipeline on real data (../shared/data)")
    print(
        f"  config ({'TRAIN_CONFIG, what train_model uses' if config == TRAIN_CONFIG else '--classifier'}): "
        f"{json.dumps(config.as_dict(), ensure_ascii=False)}"
    )
    userdict, stopwords = resources()
    if not SHARED.is_dir():
        print("  ../shared/data absent: skipped")
        return

    def fit_score(train: Path, test: Path, label: str = "label") -> float:
        model = train_model(read_csv(train, "text", [label]), config, userdict, stopwords, cache / "jieba")
        held = read_csv(test, "text", [label])
        return float(accuracy_score(held.labels[label], model.predict(list(held.texts), label)))

    acc = fit_score(SHARED / "chnsenticorp_train.csv", SHARED / "chnsenticorp_dev.csv")
    record("ChnSentiCorp train→dev accuracy", f"{acc:.4f}", "≥ 0.94", "BERT 0.950, ERNIE 0.954 (test)")
    acc = fit_score(SHARED / "thucnews_titles_dev.csv", SHARED / "thucnews_titles_test.csv")
    record(
        "THUCNews titles dev→test accuracy (10k train)",
        f"{acc:.4f}",
        "≥ 0.88",
        "FastText 0.922, BERT 0.948 (180k train)",
    )
    if quick:
        return
    from nlp.model import Manifest
    from nlp.segment import read_word_list
    from nlp.train import cross_val_predict_proba

    weibo = read_csv(SHARED / "weibo_emotion_smp2020_train.csv", "text", ["emotion"])
    probe = MessageClassifier({}, Segmenter(userdict, cache / "jieba"), Manifest({}, config))
    _, docs = probe.prepare(weibo.texts)
    classes, proba = cross_val_predict_proba(
        docs, weibo.labels["emotion"], config, read_word_list(stopwords), folds=5
    )
    pred = classes[proba.argmax(axis=1)]
    record(
        "SMP2020 Weibo emotion (6 classes) 5-fold macro-F1",
        f"{f1_score(weibo.labels['emotion'], pred, average='macro'):.4f} "
        f"(acc {accuracy_score(weibo.labels['emotion'], pred):.4f})",
        "report",
    )


def weibo_polarity(model: MessageClassifier, skip_snownlp: bool) -> None:
    print("\n## (b) Default model on SMP2020 Weibo mapped to polarity, against snownlp")
    path = SHARED / "weibo_emotion_smp2020_train.csv"
    if not path.is_file():
        print("  ../shared/data absent: skipped")
        return
    corpus = read_csv(path, "text", ["emotion"])
    keep = [i for i, e in enumerate(corpus.labels["emotion"]) if e in WEIBO_POLARITY]
    texts = [corpus.texts[i] for i in keep]
    truth = [WEIBO_POLARITY[corpus.labels["emotion"][i]] for i in keep]
    print(f"  {len(texts)} posts (surprise dropped: it is neither polarity)")
    # snownlp computes sentiment only, so ours is timed doing the same: predict(head="sentiment")
    # runs normalisation and the sentiment head's character features, and skips jieba and the
    # intent/category heads. Its labels equal classify_batch()'s sentiment (a test checks it).
    model.predict(texts[:100], "sentiment")
    start = time.perf_counter()
    ours = model.predict(texts, "sentiment")
    ours_rate = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    model.classify_batch(texts)
    full_rate = len(texts) / (time.perf_counter() - start)
    record(
        "Weibo polarity, default model: macro-F1 / accuracy",
        f"{f1_score(truth, ours, average='macro'):.4f} / {accuracy_score(truth, ours):.4f}",
    )
    print(
        f"  (sentiment only {ours_rate:,.0f} msgs/s; all three heads with classify_batch "
        f"{full_rate:,.0f} msgs/s)"
    )
    if skip_snownlp:
        return
    try:
        from snownlp import SnowNLP
    except ImportError:
        print("  snownlp not installed (pip install snownlp / the bench extra): skipped")
        return
    start = time.perf_counter()
    scores = np.asarray([SnowNLP(t).sentiments if t.strip() else 0.5 for t in texts])
    snow_rate = len(texts) / (time.perf_counter() - start)
    fixed = np.where(scores > 0.6, "正面", np.where(scores < 0.4, "负面", "中性"))
    record(
        "Weibo polarity, snownlp (>0.6 正面, <0.4 负面): macro-F1 / accuracy",
        f"{f1_score(truth, fixed, average='macro'):.4f} / {accuracy_score(truth, fixed):.4f}",
    )
    best = (0.0, 0.4, 0.6)
    for low in np.arange(0.05, 0.5, 0.05):
        for high in np.arange(0.5, 0.96, 0.05):
            pred = np.where(scores > high, "正面", np.where(scores < low, "负面", "中性"))
            best = max(best, (f1_score(truth, pred, average="macro"), low, high))
    tuned = np.where(scores > best[2], "正面", np.where(scores < best[1], "负面", "中性"))
    record(
        f"Weibo polarity, snownlp tuned on this set (<{best[1]:.2f} 负面, >{best[2]:.2f} 正面): "
        "macro-F1 / accuracy",
        f"{f1_score(truth, tuned, average='macro'):.4f} / {accuracy_score(truth, tuned):.4f}",
        "",
        "an upper bound for snownlp: thresholds fitted on the test set",
    )
    record(
        "speed vs snownlp, sentiment only like snownlp (messages/s)",
        f"{ours_rate:,.0f} vs {snow_rate:,.0f} = {ours_rate / snow_rate:,.0f}x",
        "≥ 50x",
        f"all three heads: {full_rate:,.0f} msgs/s = {full_rate / snow_rate:,.0f}x",
    )


def holdout(model: MessageClassifier) -> None:
    print("\n## (c) Default model on the holdout split (data/nlp/holdout, never trained on)")
    files = csv_files(DATA / "nlp" / "holdout")
    if not files:
        print("  no holdout files: skipped")
        return
    corpus = read_csvs(files, "text", HEADS)
    labels = model.classify_batch(list(corpus.texts))
    truth = corpus.labels
    for head, target in (("intent", "0.80"), ("category", "0.75"), ("sentiment", "0.75")):
        pred = [getattr(lab, head) for lab in labels]
        record(
            f"holdout {head} macro-F1 (n={len(pred)})",
            f"{f1_score(truth[head], pred, average='macro'):.4f}",
            f"≥ {target}",
        )
    pred = [lab.intent for lab in labels]
    urgent = recall_score(truth["intent"], pred, labels=["紧急"], average="macro")
    record("holdout 紧急 recall", f"{urgent:.4f}", "≥ 0.95")
    raw = model.predict(list(corpus.texts), "intent")
    print(
        f"  (model alone, no rules/threshold: 紧急 recall "
        f"{recall_score(truth['intent'], raw, labels=['紧急'], average='macro'):.4f}; "
        f"precision with rules "
        f"{_precision(truth['intent'], pred, '紧急'):.4f})"
    )


def _precision(truth: Sequence[str], pred: Sequence[str], label: str) -> float:
    hits = [t == label for t, p in zip(truth, pred, strict=True) if p == label]
    return sum(hits) / len(hits) if hits else 0.0


def speed(model: MessageClassifier, model_dir: Path, cache: Path, repeats: int) -> None:
    print("\n## (d) Speed and memory (one core)")
    files = csv_files(DATA / "nlp" / "holdout") + csv_files(DATA / "nlp" / "seed")
    texts = list(dict.fromkeys(read_csvs(files, "text", ["intent"]).texts))  # unique messages
    mean_len = sum(map(len, texts)) / len(texts)
    batch = texts
    model.classify_batch(batch[:100])
    latencies = []
    for text in texts[:3000]:
        start = time.perf_counter()
        model.classify(text)
        latencies.append(time.perf_counter() - start)
    record(
        f"single message latency p50 / p99 (mean {mean_len:.0f} chars)",
        f"{np.percentile(latencies, 50) * 1e3:.2f} ms / {np.percentile(latencies, 99) * 1e3:.2f} ms",
        "p99 ≤ 3 ms",
    )
    ours = median_time(lambda: model.classify_batch(batch), repeats)
    segmenter = model.segmenter
    normalized = [normalize(t) for t in batch]
    bare = median_time(lambda: [segmenter.words(t) for t in normalized], repeats)
    record(f"batch throughput ({len(batch)} messages)", f"{len(batch) / ours:,.0f} msgs/s", "≥ 5,000")
    record(
        "bare jieba segmentation of the same messages",
        f"{len(batch) / bare:,.0f} msgs/s (ours = {bare / ours:.2f}x of it)",
        "floor",
    )
    load = median_time(lambda: MessageClassifier.load(model_dir, cache_dir=cache / "jieba"), repeats)
    record("model load (incl. jieba dictionary from cache)", f"{load:.2f} s", "≤ 2 s")
    record("resident memory, process after load", _rss(model_dir, cache), "≤ 200 MB")


def _rss(model_dir: Path, cache: Path) -> str:
    """Current RSS (VmRSS) of a fresh process before and after loading the model and classifying."""
    import subprocess

    code = (
        f"import sys;sys.path.insert(0,{str(REPO)!r});"
        "from pathlib import Path;import nlp, nlp.segment, sklearn.linear_model, scipy, numpy;"
        "rss=lambda:int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]);"
        "base=rss();"
        f"m=nlp.MessageClassifier.load(Path({str(model_dir)!r}),"
        f"cache_dir=Path({str(cache / 'jieba')!r}));m.classify_batch(['停水了']*512);"
        "print(base, rss())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    base, after = (int(x) / 1024 for x in out.stdout.split())
    return f"{after - base:.0f} MB for model + jieba ({after:.0f} MB whole process with Python+sklearn)"


def compare(cache: Path) -> None:
    print("\n## Model selection: trained on seed, scored on holdout (and seed 5-fold CV for intent)")
    userdict, stopwords = resources()
    seed, _ = seed_corpus(DATA)
    hold = read_csvs(csv_files(DATA / "nlp" / "holdout"), "text", HEADS)
    from nlp.model import Manifest
    from nlp.segment import read_word_list
    from nlp.train import cross_val_predict_proba

    segmenter = Segmenter(userdict, cache / "jieba")
    candidates = [
        replace(DEFAULT_CONFIG, classifier="nblr", C=30),
        replace(DEFAULT_CONFIG, classifier="nblr", C=10),
        replace(DEFAULT_CONFIG, classifier="nblr", C=30, min_df=1),
        replace(DEFAULT_CONFIG, classifier="nblr", C=30, use_stopwords=False),
        replace(DEFAULT_CONFIG, classifier="nblr", C=30, char_ngrams=(1, 4)),
        replace(DEFAULT_CONFIG, classifier="nblr", C=30, word_ngrams=(0, 0)),
        replace(DEFAULT_CONFIG, classifier="nblr", C=30, char_ngrams=(0, 0)),
        replace(DEFAULT_CONFIG, classifier="lr", C=30),
        replace(DEFAULT_CONFIG, classifier="svc", C=10),
        replace(DEFAULT_CONFIG, classifier="sgd", C=1),
        replace(DEFAULT_CONFIG, classifier="cnb", C=3),
        replace(config_for("joint"), char_only_heads=DEFAULT_CONFIG.char_only_heads),
    ]
    print(
        "| classifier | C | words | chars | min_df | stop words | seed CV intent F1 | holdout intent F1 | "
        "holdout category F1 | holdout sentiment F1 | holdout 紧急 recall | fit s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for config in candidates:
        start = time.perf_counter()
        model = train_model(seed, config, userdict, stopwords, cache / "jieba")
        fit = time.perf_counter() - start
        labels = model.classify_batch(list(hold.texts))
        _, seed_docs = MessageClassifier({}, segmenter, Manifest({}, config)).prepare(seed.texts)
        classes, proba = cross_val_predict_proba(
            seed_docs, seed.labels["intent"], config, read_word_list(stopwords), folds=5
        )
        cv_f1 = f1_score(seed.labels["intent"], classes[proba.argmax(axis=1)], average="macro")
        f1 = {
            h: f1_score(hold.labels[h], [getattr(lab, h) for lab in labels], average="macro") for h in HEADS
        }
        rec = recall_score(
            hold.labels["intent"], [lab.intent for lab in labels], labels=["紧急"], average="macro"
        )
        print(
            f"| {config.classifier} | {config.C:g} | {config.word_ngrams} | {config.char_ngrams} | "
            f"{config.min_df} | {'yes' if config.use_stopwords else 'no'} | {cv_f1:.3f} | "
            f"{f1['intent']:.3f} | {f1['category']:.3f} | {f1['sentiment']:.3f} | {rec:.3f} | "
            f"{fit:.1f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the Weibo 5-fold CV")
    parser.add_argument("--compare", action="store_true", help="also run the model comparison")
    parser.add_argument("--skip-snownlp", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--classifier",
        default=TRAIN_CONFIG.classifier,
        help="named training config for part (a), the training pipeline: joint | nblr | nblr+lr | lr | ...",
    )
    parser.add_argument("--real-data-only", action="store_true", help="run part (a) only")
    args = parser.parse_args()
    machine()
    with tempfile.TemporaryDirectory(prefix="xiaoqi-bench-") as tmp:
        cache = Path(tmp)
        if not args.real_data_only:
            default_model_parts(cache, args.repeats, args.skip_snownlp)
        real_data(args.quick, cache, config_for(args.classifier))
        if args.compare:
            compare(cache)
    print("\n## Table for the README\n")
    print("| measure | Xiaoqi (measured) | target | published / reference |")
    print("|---|---|---|---|")
    for measure, ours, target, reference in rows:
        print(f"| {measure} | {ours} | {target} | {reference} |")


def default_model_parts(cache: Path, repeats: int, skip_snownlp: bool) -> None:
    """Parts (b)-(d): the default model's speed, holdout scores and Weibo polarity."""
    start = time.perf_counter()
    model = default_model(DATA, cache)
    print(
        f"\n(default model built in {time.perf_counter() - start:.1f} s; "
        f"config {json.dumps(DEFAULT_CONFIG.as_dict(), ensure_ascii=False)})"
    )
    model_dir = next((cache / "nlp").glob("default-*"))
    speed(model, model_dir, cache, repeats)
    holdout(model)
    weibo_polarity(model, skip_snownlp)


if __name__ == "__main__":
    main()
