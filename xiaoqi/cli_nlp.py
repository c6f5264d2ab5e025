"""`xiaoqi nlp`: classify messages, train a model on any labelled CSV, evaluate one."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.settings import Settings
from xiaoqi.nlp_wiring import load_classifier

if TYPE_CHECKING:
    from nlp import Corpus, MessageClassifier, TrainConfig

nlp_app = typer.Typer(
    help="Message understanding: classify stdin lines, train on a labelled CSV, evaluate.",
    no_args_is_help=True,
)

logger = logging.getLogger(__name__)
CLASSIFY_BATCH = 256


def data_dir() -> Path:
    return Settings.from_env().data_dir


def cache_dir() -> Path:
    return Settings.from_env().cache_dir


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _load(model: Path | None, with_fallback: bool = True) -> MessageClassifier:
    """The model to use; a model dir lacking heads borrows them from the default model."""
    from nlp import MessageClassifier

    settings = Settings.from_env(nlp_model_dir=model)
    try:
        if with_fallback or settings.nlp_model_dir is None:
            return load_classifier(settings)
        return MessageClassifier.load(settings.nlp_model_dir, cache_dir=settings.cache_dir / "jieba")
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc


@nlp_app.command("classify")
def classify(
    model: Annotated[Path | None, typer.Option(help="Model dir (default: the built-in model).")] = None,
) -> None:
    """Read one message per line on stdin; write one JSON object per line."""
    classifier = _load(model)
    batch: list[str] = []

    def flush() -> None:
        for text, labels in zip(batch, classifier.classify_batch(batch), strict=True):
            sys.stdout.write(json.dumps({"text": text, **labels.as_dict()}, ensure_ascii=False))
            sys.stdout.write("\n")
        sys.stdout.flush()
        batch.clear()

    for line in sys.stdin:
        batch.append(line.rstrip("\r\n"))
        if len(batch) >= CLASSIFY_BATCH:
            flush()
    if batch:
        flush()


@nlp_app.command("train")
def train(
    data: Annotated[Path, typer.Option(help="Labelled UTF-8 CSV with a header row.")],
    out: Annotated[Path, typer.Option(help="Model dir to write.")],
    text_col: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    label_col: Annotated[
        list[str] | None, typer.Option(help="Label column; repeat for several heads.")
    ] = None,
    classifier: Annotated[
        str, typer.Option(help="joint (default) | nblr | nblr+lr | lr | svc | sgd | cnb")
    ] = "joint",
    c: Annotated[float | None, typer.Option("--C", help="Regularisation; default: tuned by CV.")] = None,
) -> None:
    """Train a model for any labelled CSV; every --label-col becomes a head."""
    from dataclasses import replace

    from nlp import CorpusError, read_csv, train_model
    from nlp.build import config_for, nlp_resources
    from nlp.corpus import fingerprint
    from nlp.train import CLASSIFIERS

    columns = label_col or []
    if not columns:
        raise _fail("give at least one --label-col")
    if classifier not in CLASSIFIERS:
        raise _fail(f"unknown classifier {classifier!r}; choose one of {', '.join(CLASSIFIERS)}")
    try:
        corpus = read_csv(data, text_col, columns)
    except CorpusError as exc:
        raise _fail(str(exc)) from exc
    userdict, stopwords = nlp_resources(data_dir())
    config = config_for(classifier)
    if c is not None:
        config = replace(config, C=c)
    elif len(corpus) >= 60:
        config = _tune(corpus, columns[0], config, userdict, stopwords)
    try:
        model = train_model(corpus, config, userdict, stopwords, cache_dir() / "jieba", fingerprint([data]))
    except CorpusError as exc:
        raise _fail(str(exc)) from exc
    model.save(out)
    typer.echo(f"trained {', '.join(model.head_names)} on {len(corpus)} rows -> {out}")


def _tune(corpus: Corpus, column: str, config: TrainConfig, userdict: Path, stopwords: Path) -> TrainConfig:
    """C by 3-fold CV accuracy on the training file only."""
    from nlp.model import Manifest, MessageClassifier
    from nlp.segment import Segmenter, read_word_list
    from nlp.train import tune_c

    rows = [i for i, label in enumerate(corpus.labels[column]) if label]
    labels = [corpus.labels[column][i] for i in rows]
    if min(labels.count(x) for x in set(labels)) < 3:
        return config
    probe = MessageClassifier({}, Segmenter(userdict, cache_dir() / "jieba"), Manifest({}, config))
    _, docs = probe.prepare([corpus.texts[i] for i in rows])
    tuned, scores = tune_c(docs, labels, config, (3.0, 10.0, 30.0, 100.0), read_word_list(stopwords))
    typer.echo("C by 3-fold CV: " + ", ".join(f"{k:g}={v:.4f}" for k, v in scores.items()), err=True)
    return tuned


@nlp_app.command("eval")
def evaluate(
    data: Annotated[Path, typer.Option(help="Labelled UTF-8 CSV with a header row.")],
    text_col: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    label_col: Annotated[str, typer.Option(help="Label column to score.")] = "intent",
    model: Annotated[Path | None, typer.Option(help="Model dir to evaluate.")] = None,
    cv: Annotated[int | None, typer.Option(help="Cross-validate a fresh model with N folds.")] = None,
    classifier: Annotated[str, typer.Option(help="Classifier for --cv.")] = "joint",
) -> None:
    """Accuracy, macro-F1, per-class table and confusion matrix; last line is JSON."""
    from nlp import CorpusError, read_csv
    from nlp.build import config_for, nlp_resources
    from nlp.evaluate import score_report
    from nlp.labels import HEADS

    if (model is None) == (cv is None):
        raise _fail("give exactly one of --model DIR or --cv N")
    try:
        corpus = read_csv(data, text_col, [label_col])
    except CorpusError as exc:
        raise _fail(str(exc)) from exc
    rows = [i for i, label in enumerate(corpus.labels[label_col]) if label]
    texts = [corpus.texts[i] for i in rows]
    truth = [corpus.labels[label_col][i] for i in rows]
    if not rows:
        raise _fail(f"no labelled rows in column {label_col}")
    if model is not None:
        trained = _load(model, with_fallback=False)
        if label_col not in trained.heads:
            raise _fail(f"model has no head {label_col!r} (heads: {', '.join(trained.heads)})")
        if label_col in HEADS:  # as the bot sees it: emergency rules, category 无 coupling
            predicted = [getattr(lab, label_col) for lab in trained.classify_batch(texts)]
        else:
            predicted = trained.predict(texts, label_col)
    else:
        from nlp.model import Manifest, MessageClassifier
        from nlp.segment import Segmenter, read_word_list
        from nlp.train import cross_val_predict_proba

        if cv is None or cv < 2:
            raise _fail("--cv needs at least 2 folds")
        userdict, stopwords = nlp_resources(data_dir())
        config = config_for(classifier)
        probe = MessageClassifier({}, Segmenter(userdict, cache_dir() / "jieba"), Manifest({}, config))
        _, docs = probe.prepare(texts)
        try:
            classes, proba = cross_val_predict_proba(docs, truth, config, read_word_list(stopwords), folds=cv)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        predicted = [str(classes[i]) for i in proba.argmax(axis=1)]
    report = score_report(truth, predicted)
    typer.echo(report.text())
    typer.echo(json.dumps(report.summary(), ensure_ascii=False))
