# gouji — two commands matter: `make demo` and `make test`. Both build the environment themselves.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SHARED  ?= ../shared

.PHONY: demo test test-fast lint bench fuzz browser fonts clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/gouji check corpus/samples --format text
	$(BIN)/gouji check corpus/samples --format jsonl > out/demo-findings.jsonl
	@echo "findings written to out/demo-findings.jsonl"

# Chromium for the browser tests (Debian package); skipped with a reason when it cannot be installed.
browser:
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1) || \
	  echo "chromium could not be installed: browser tests will skip")

# A Chinese system font for pdfium (Debian package). A PDF whose Chinese font is not embedded is drawn with a
# system font; with none, pdfium drops a text object holding a lone Chinese glyph (「单位：万」 / 「元」 wrapped).
fonts:
	@fc-list :lang=zh 2>/dev/null | grep -q . || (command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null 2>&1)) || \
	  echo "no Chinese font could be installed: the PDF test that needs one will skip"

test: $(STAMP) browser fonts
	$(BIN)/ruff check detector tests bench
	$(BIN)/pytest -q -m "slow or not slow or browser" --junitxml=out/junit.xml

test-fast: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check detector tests bench

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

fuzz: $(STAMP)
	$(BIN)/python -m detector.fuzz --inputs 10000

clean:
	rm -rf $(VENV) out
