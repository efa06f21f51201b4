"""A local cross-encoder: reads the query and a passage together and scores their relevance.

Where the embedding model compares two vectors made apart, a cross-encoder attends across
both texts at once, which is what tells "list files in a directory" from a section that only
shares the words. It costs one model run per (query, passage) pair, so it only rescores the
top few sections (search/rescore.py), and only when the user asks for it.

The model is an ONNX export of a BERT-style sequence classifier (e.g. ms-marco-MiniLM-L6-v2,
installed with `docsearch models pull ms-marco-minilm-l6`): inputs `input_ids`,
`attention_mask` and optionally `token_type_ids` (0 for the query, 1 for the passage), output
`logits` [batch, 1] (or [batch]); a higher logit is more relevant.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from docsearch.embed.onnx import OnnxModelSpec, cpu_session


class OnnxCrossEncoder:
    def __init__(self, spec: OnnxModelSpec, threads: int = 2, batch_size: int = 16) -> None:
        from tokenizers import Tokenizer

        self.spec = spec
        self.name = spec.name
        self.batch_size = max(1, batch_size)
        self._session = cpu_session(spec.model_path, threads)
        self._inputs = {i.name for i in self._session.get_inputs()}
        if "input_ids" not in self._inputs:
            raise ValueError(f"{spec.model_path}: the model declares no input_ids input")
        self._output = spec.output_name or self._session.get_outputs()[0].name
        self._tokenizer = Tokenizer.from_file(str(Path(spec.tokenizer_path)))
        self._tokenizer.no_padding()
        # Pairs are cut from the passage's end: the query and the section's start matter most.
        self._tokenizer.enable_truncation(max_length=spec.max_length, strategy="only_second")

    def score(self, query: str, passages: list[str]) -> list[float]:
        """One relevance logit per passage, in order."""
        out: list[float] = []
        for start in range(0, len(passages), self.batch_size):
            out.extend(self._run(query, passages[start : start + self.batch_size]))
        return out

    def _run(self, query: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        encodings = self._tokenizer.encode_batch([(query, p) for p in passages])
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(passages), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
            types[row, : len(enc.ids)] = enc.type_ids
        feed: dict[str, np.ndarray] = {"input_ids": ids}
        if "attention_mask" in self._inputs:
            feed["attention_mask"] = mask
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = types
        (logits,) = self._session.run([self._output], feed)
        logits = np.asarray(logits, dtype=np.float32).reshape(len(passages), -1)
        # A one-logit head is the relevance; a two-logit (not relevant, relevant) head's margin.
        column = logits[:, 0] if logits.shape[1] == 1 else logits[:, -1] - logits[:, 0]
        return [float(x) for x in column]
