"""Library chatter silenced at its source, for the model libraries newsbot drives.

transformers draws a ``Loading weights`` bar each time a model is loaded (a second or less:
progress nobody waits for); it is turned off before newsbot loads a model. onnxruntime's
quantizer's advice is answered where the graph is made (:func:`retrieval.embeddings.export.fuse`).
"""

from __future__ import annotations


def quiet_transformers() -> None:
    """No progress bars from transformers (model loading)."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
