# Two commands for a newcomer: `make run` and `make test`. Each does its own set-up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TOOLS  := .tools
# TypeScript's compiler for running TypeScript lessons (and their tests); optional: without
# npm those lessons say what to install and their tests are skipped with that reason.
TSC_STAMP := $(TOOLS)/.installed
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)

.PHONY: run test test-quick lint format bench doctor lessons-check clean llama-server

# llama.cpp is compiled for this machine's processor (-march=native) but without its AMX
# kernels: they fault on some Xeons and VMs (llama.cpp issue 20824), and leaving them out
# kept the weight repacking that makes Q4_0/Q4_K models faster (README, "Performance").
# Built on its own, with pip's wheel cache off, so no wheel built with other flags is reused.
ifeq ($(shell uname -m),x86_64)
LLAMA_CFLAGS ?= -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
endif
LLAMA_REQ = $(shell grep -o '"llama-cpp-python[^"]*"' pyproject.toml)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "Compiling llama.cpp for llama-cpp-python (about 4 minutes on 2 cores)..."
	CFLAGS="$(LLAMA_CFLAGS)" CXXFLAGS="$(LLAMA_CFLAGS)" $(PY) -m pip install --quiet \
		--no-cache-dir --no-binary llama-cpp-python $(LLAMA_REQ)
	$(PY) -m pip install -e ".[test]"
	touch $(STAMP)

$(TSC_STAMP):
	@mkdir -p $(TOOLS)
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --prefix $(TOOLS) typescript@5 \
		|| echo "Could not install TypeScript: TypeScript lessons will not run."; \
	else echo "npm not found: TypeScript lessons will not run (install Node.js for them)."; fi
	@touch $(TSC_STAMP)

# llama.cpp's own server, for `codetutor serve` in a lab: parallel slots, so a room's requests
# are answered together (llama-cpp-python's server answers one at a time). Built from the
# llama.cpp that llama-cpp-python's sdist vendors, the version the app runs, with the same
# flags; not part of `make test`, whose llama-server tests skip without it.
# On a lab's GPU machine: `make llama-server LLAMA_SERVER_CMAKE=-DGGML_CUDA=on`.
LLAMA_SERVER := $(TOOLS)/llama-server/bin/llama-server
LLAMA_SERVER_CMAKE ?=

llama-server: $(LLAMA_SERVER)

$(LLAMA_SERVER): | $(STAMP)
	@echo "Building llama.cpp's llama-server (a few minutes)..."
	@mkdir -p $(TOOLS)/src $(dir $@)
	set -e; version=$$($(PY) -c 'import importlib.metadata as m; print(m.version("llama_cpp_python"))'); \
	src=$(TOOLS)/src/llama_cpp_python-$$version; \
	if [ ! -d $$src ]; then \
		$(PY) -m pip download --quiet --no-deps --no-binary :all: \
			"llama-cpp-python==$$version" -d $(TOOLS)/src; \
		tar -xzf $(TOOLS)/src/llama_cpp_python-$$version.tar.gz -C $(TOOLS)/src; \
	fi; \
	CFLAGS="$(LLAMA_CFLAGS)" CXXFLAGS="$(LLAMA_CFLAGS)" cmake -S $$src/vendor/llama.cpp \
		-B $(TOOLS)/llama-server/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_SERVER=ON \
		-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF \
		-DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON $(LLAMA_SERVER_CMAKE) >/dev/null; \
	cmake --build $(TOOLS)/llama-server/build --config Release --target llama-server \
		-j$$(nproc 2>/dev/null || echo 2); \
	cp $(TOOLS)/llama-server/build/bin/llama-server $@
	$@ --version

run: $(STAMP) $(TSC_STAMP)
	$(VENV)/bin/codetutor

# lint-imports checks the dependency direction between app's packages ([tool.importlinter]).
test: $(STAMP) $(TSC_STAMP)
	$(VENV)/bin/ruff check app tests
	$(VENV)/bin/ruff format --check app tests
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(VENV)/bin/codetutor lessons check
	@$(PY) -c 'import llama_cpp; print("llama.cpp system info:", llama_cpp.llama_print_system_info().decode().strip())'
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest --cov=app --cov-report=term --cov-fail-under=80 -q

# The deterministic part of the suite, for a quick loop while coding: no real model, no
# learner programs (markers real_model and slow). `make test` runs everything.
test-quick: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not real_model and not slow"

lint:
	$(VENV)/bin/ruff check app tests && $(VENV)/bin/ruff format --check app tests
	$(VENV)/bin/lint-imports --no-cache --no-logo

format:
	$(VENV)/bin/ruff format app tests && $(VENV)/bin/ruff check --fix app tests

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/codetutor bench --json

doctor: $(STAMP)
	$(VENV)/bin/codetutor doctor

clean:
	rm -rf $(VENV) $(TOOLS) build *.egg-info .pytest_cache .ruff_cache .coverage
