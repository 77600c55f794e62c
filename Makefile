# newsbot: `make chat` (index the corpus and chat, embedded defaults) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
export ANONYMIZED_TELEMETRY ?= False

.PHONY: chat test lint check install bench clean status completion deploy-check docker fuzz train

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU build (a newer or unpinned torch pulls a multi-GB CUDA build)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## open the REPL (it indexes the articles waiting in corpus/ first), on the embedded defaults
chat: install
	$(BIN)/newsbot chat

## what the index holds, what waits to be indexed, what is configured
status: install
	$(BIN)/newsbot status

## bash completion for the newsbot command (zsh: newsbot --print-completion zsh)
completion: install
	mkdir -p $(HOME)/.local/share/bash-completion/completions
	$(BIN)/newsbot --print-completion bash > $(HOME)/.local/share/bash-completion/completions/newsbot

## lint the deployment files: the Dockerfile (hadolint) and the systemd unit (systemd-analyze)
deploy-check: install
	$(BIN)/hadolint deploy/Dockerfile
	tmp=$$(mktemp -d) && sed 's#/opt/newsbot/.venv/bin/newsbot#$(abspath $(BIN))/newsbot#' deploy/newsbot.service \
		> $$tmp/newsbot.service && systemd-analyze verify $$tmp/newsbot.service; status=$$?; rm -rf $$tmp; exit $$status

## the CPU image with the model built in (needs a Docker engine)
docker:
	docker build -f deploy/Dockerfile -t newsbot .

## the whole test suite, slow tests included (real models, real Chroma server)
test: install
	$(BIN)/python -m pytest -q

## coverage-guided fuzzing of the corpus parser (atheris); crashes land in tests/fuzz/regressions/
FUZZ_SECONDS ?= 60
fuzz: install
	$(BIN)/python -m pip install --quiet -e '.[fuzz]'
	mkdir -p .newsbot/fuzz-corpus && cp -n tests/fuzz/corpus/* .newsbot/fuzz-corpus/
	PYTHONPATH=$(CURDIR) $(BIN)/python -m tests.fuzz.fuzz_corpus -max_total_time=$(FUZZ_SECONDS) .newsbot/fuzz-corpus

lint: install
	$(BIN)/ruff check retrieval bot tests benchmarks
	$(BIN)/mypy

## what the benchmarks need beyond the tests (benchmarks/compare_recipe.py's LangChain splitter)
bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'

check: test lint

clean:
	rm -rf $(VENV) .newsbot .pytest_cache .mypy_cache .ruff_cache

## refit the answer-sentence model (retrieval/answer/sentence_model.json) on ../shared/eval/piaf-dev.json
train: install
	$(BIN)/python -m retrieval.answer.train
	$(BIN)/python -m retrieval.answer.train_reranker
