"""`docsearch eval`: ranking quality of the index against relevance judgments."""

from __future__ import annotations

import argparse

from docsearch.cli.common import settings_from
from docsearch.disk import disk_problem, refused
from docsearch.errors import InputError, SettingsError, StorageError
from docsearch.present import json_text, plural, sanitize_line


def run_eval(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from docsearch.evaluate import evaluate, load_qrels, synthetic_judgments
    from docsearch.search.ranker import LinearRanker
    from docsearch.search.searcher import Searcher

    if args.k < 1:
        raise SettingsError("--k must be at least 1")
    if (args.qrels is None) == (not args.synthetic):
        raise SettingsError("give a judgments file (QRELS.tsv) or --synthetic, not both")
    if args.sample < 0:
        raise SettingsError("--sample must be 0 or more")
    if not args.synthetic:
        from docsearch.inputs import check_id_template

        check_id_template(args.id_template)  # a bad one was a KeyError traceback at the first query
    settings = settings_from(args, rerank=args.rerank)
    searcher = Searcher(settings)
    searcher.rerank.preload(settings.float_memory_mb * 1_000_000)  # every query reranks
    if args.synthetic:
        judgments = synthetic_judgments(searcher.reader, args.sample)
        args.id_template = "{path}#{anchor}"
        source = f"held-out questions of {settings.index}"
    else:
        judgments = load_qrels(args.qrels)
        source = str(args.qrels)
    base = replace(searcher.options, top_k=args.k)
    variants = [
        ("bm25 (title+heading+text)", replace(base, use_binary=False, rank_by="keyword")),
        ("binary only", replace(base, use_keyword=False, rank_by="binary")),
        ("float only (exact)", replace(base, use_keyword=False, rank_by="float")),
        ("0.5 bm25/max + 0.5 cosine", replace(base, rank_by="mix")),
        ("hybrid (default)", base),
    ]
    try:
        counts = [int(c) for c in args.rerank_counts.split(",") if c.strip()]
    except ValueError:
        raise SettingsError("--rerank-counts takes N,N numbers") from None
    for count in counts:
        variants.append((f"hybrid rerank_count={count}", replace(base, rerank_count=count)))
    for model in args.ranker:
        variants.append((f"hybrid ranker={model.name}", replace(base, ranker=LinearRanker.load(model))))
    if args.fit is not None:
        from docsearch.evaluate import training_queries
        from docsearch.search.ranker import fit

        training = training_queries(searcher, judgments, base, args.id_template)
        fitted = fit(training, base.ranker, k=args.k, trained_on=[source])
        try:
            fitted.save(args.fit)
        except OSError as exc:
            problem = disk_problem(exc)
            if problem is not None:  # a full or read-only disk, no permission: exit 7
                raise StorageError(refused("the fitted ranker", args.fit, problem)) from None
            raise InputError(f"cannot write {args.fit}: {exc.strerror or exc}") from None  # no such folder
        variants.append((f"hybrid fitted (in-sample) {args.fit.name}", replace(base, ranker=fitted)))
    template = args.id_template
    rows = [(label, evaluate(searcher, judgments, opts, args.k, template)) for label, opts in variants]
    rescorer = searcher.rescorer()  # the `rerank` setting or --rerank; None when off
    if rescorer is not None:
        # The same hybrid order, then the cross-encoder over its top rerank_depth sections.
        scores = evaluate(searcher, judgments, base, args.k, template, rescore=True)
        rows.append((f"hybrid + rescore {rescorer.name}", scores))
    if args.json:
        payload = {
            "qrels": None if args.synthetic else str(args.qrels),
            "synthetic": args.synthetic,
            "k": args.k,
            "queries": len(judgments),
            "variants": [{"variant": label, **scores.as_json()} for label, scores in rows],
        }
        print(json_text(payload))
        return 0
    k = args.k
    print(f"{plural(len(judgments), 'query', 'queries')} from {sanitize_line(str(source))}, k = {k}\n")
    width = max(34, *(len(label) for label, _ in rows))
    header = f"{'variant':<{width}} {'nDCG@' + str(k):>9} {'Recall@' + str(k):>10} {'MRR@' + str(k):>8} "
    print(header + f"{'Judged@' + str(k):>10} {'p50 ms':>8}")
    for label, sc in rows:
        metrics = f"{sc.ndcg:>9.3f} {sc.recall:>10.3f} {sc.mrr:>8.3f} {sc.judged:>10.3f}"
        print(f"{sanitize_line(label):<{width}} {metrics} {sc.latency_ms:>8.1f}")
    return 0
