from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from retrieval.answer.train_reranker import main, recorded_tuning


def test_recorded_tuning_comes_from_the_weights_metadata_then_the_models_block(tmp_path: Path) -> None:
    weights = tmp_path / "w.safetensors"
    save_file({"head.bias": np.zeros(1, dtype=np.float32)}, str(weights), metadata={"layers": "12", "epochs": "2"})
    shipped = {"reranker": {"info": {"layers": 4, "tuning_questions": 2811, "epochs": 1}}}
    assert recorded_tuning(weights, shipped) == {"layers": 12, "tuning_questions": 2811, "epochs": 2}
    assert recorded_tuning(weights, {}) == {"layers": 12, "epochs": 2}


def test_recombine_only_needs_tuned_layers_to_keep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = tmp_path / "piaf.json"
    dataset.write_text("{}", encoding="utf-8")
    code = main(["--dataset", str(dataset), "--weights-out", str(tmp_path / "missing.safetensors"), "--recombine-only"])
    assert code == 2
    assert "missing.safetensors not found" in capsys.readouterr().err
