# Footfall -- top-level entry points. See README.md.
#   make demo   build everything and run `footfall demo`
#   make test   build and run every test (plain build, then ASan+UBSan build)
# Other targets: build, asan, unit, fuzz, format, format-check, bench, clean.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
DEMO_ARGS  ?=

.PHONY: all deps sdk-deps build asan demo test test-plain test-asan fuzz format format-check bench clean node-deps

all: build

deps:
	@bash scripts/install-deps.sh

node-deps: deps
	@bash scripts/install-node-deps.sh
	@bash scripts/install-browser-deps.sh

sdk-deps: deps
	@FF_NO_CHROMIUM=1 bash scripts/install-browser-deps.sh

build: sdk-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFF_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

demo: build
	./$(BUILD)/footfall demo $(DEMO_ARGS)

test: node-deps
	@bash scripts/test.sh

test-plain: build node-deps
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: asan node-deps
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -LE slow

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFF_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

bench: build
	bash bench/ingest.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
