# newsbot: `make chat` (index the corpus and chat, embedded defaults) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
export ANONYMIZED_TELEMETRY ?= False

.PHONY: chat test lint check install bench clean train

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU build (a newer or unpinned torch pulls a multi-GB CUDA build)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## index the corpus (incrementally) and open the REPL, on the embedded defaults
chat: install
	$(BIN)/newsbot reindex
	$(BIN)/newsbot chat

## the whole test suite, slow tests included (real models, real Chroma server)
test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check retrieval bot tests benchmarks
	$(BIN)/mypy

check: test lint

clean:
	rm -rf $(VENV) .newsbot .pytest_cache .mypy_cache .ruff_cache

## refit the answer-sentence model (retrieval/answer/sentence_model.json) on ../shared/eval/piaf-dev.json
train: install
	$(BIN)/python -m retrieval.answer.train
