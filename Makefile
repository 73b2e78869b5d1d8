# Set-up and entry points. `make demo` and `make test` install what they need
# (Debian packages), configure, build and run.
DEB_BUILD := cmake ninja-build g++ pkg-config libeigen3-dev liblbfgspp-dev librandom123-dev libcli11-dev \
  nlohmann-json3-dev libfmt-dev zlib1g-dev libzip-dev libgtest-dev libgmock-dev \
  libbenchmark-dev dataset-fashion-mnist python3-numpy python3-dev pybind11-dev python3-pytest python3-sklearn python3-matplotlib \
  libopenmpi-dev openmpi-bin
DEB_PEERS := python3-torch python3-sklearn python3-numpy python3-threadpoolctl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
JOBS ?= $(shell nproc)
# The interpreter the Python package is built for and tested with: Debian's, whose
# packages (numpy, pytest) the Makefile installs.
PYTHON ?= /usr/bin/python3

.PHONY: all deps deps-peers configure build test test-slow sanitize python-test demo bench peers clean

all: build

# Install the Debian packages that are missing (one apt-get update, then install).
deps:
	@missing=$$(for p in $(DEB_BUILD); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

deps-peers:
	@missing=$$(for p in $(DEB_PEERS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

configure: deps
	@[ -f build/build.ninja ] || cmake --preset release -DPython3_EXECUTABLE=$(PYTHON)

build: configure
	cmake --build build -j $(JOBS)

test: build
	ctest --preset release -j $(JOBS)

# The Python package's tests alone (they are part of `make test` too).
python-test: build
	ctest --preset release -L python -j $(JOBS)

test-slow: build
	ctest --preset slow -j $(JOBS)

# The readers' unit tests (tests/io) under AddressSanitizer + UndefinedBehaviorSanitizer,
# in build-sanitize/ (sanitize/CMakeLists.txt), and the thread pool's and the thread-count
# reproducibility tests under ThreadSanitizer, in build-tsan/ (tsan/CMakeLists.txt);
# docs/robustness.md says why these subsets. CI runs it after `make test`.
sanitize: build
	@[ -f build-sanitize/build.ninja ] || cmake -S sanitize -B build-sanitize -G Ninja
	cmake --build build-sanitize -j $(JOBS)
	ctest --test-dir build-sanitize -j $(JOBS) --output-on-failure
	@[ -f build-tsan/build.ninja ] || cmake -S tsan -B build-tsan -G Ninja
	cmake --build build-tsan -j $(JOBS)
	ctest --test-dir build-tsan -j $(JOBS) --output-on-failure

demo: build
	./build/apps/logz/logz demo --out build/demo
	@mkdir -p build/demo/figures
	./build/apps/logz/logz plot filters --model build/demo/model.npz --out build/demo/figures/filters.png
	./build/apps/logz/logz plot samples --model build/demo/model.npz --count 32 --out build/demo/figures/samples.png
	./build/apps/logz/logz plot training --log build/demo/model.log.jsonl --out build/demo/figures/training.png
	@echo "demo figures: build/demo/figures/filters.png (the RBM's filters), samples.png (its samples), training.png (training curves)"
	scripts/continuous_demo.sh build/apps/logz/logz

bench: build deps-peers
	bench/compare_peers.sh
	bench/estimator_accuracy.sh

clean:
	rm -rf build build-debug build-sanitize build-tsan

# Fuzzing (docs/robustness.md): libFuzzer targets for every file reader and the option
# parser, built with clang, ASan and UBSan in build-fuzz/ (a CMake project of its own,
# fuzz/CMakeLists.txt). `make fuzz` runs each target FUZZ_SECONDS (default 600) from the
# committed seeds (fuzz/corpus/; new inputs go to build-fuzz/corpus/) and fails on any
# crash, sanitizer report, leak, out-of-memory or timeout; `make fuzz-smoke` is a 20 s run
# of each; `make fuzz-regressions` reruns the recorded findings (fuzz/regressions/).
DEB_FUZZ := clang libclang-rt-dev libomp-dev
FUZZ_SECONDS ?= 600
.PHONY: deps-fuzz fuzz-configure fuzz-build fuzz fuzz-smoke fuzz-regressions

deps-fuzz: deps
	@missing=$$(for p in $(DEB_FUZZ); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

fuzz-configure: deps-fuzz
	CXX=clang++ cmake -S fuzz -B build-fuzz -G Ninja -DLOGZ_SOURCE_DIR=$(CURDIR)

fuzz-build: fuzz-configure
	cmake --build build-fuzz -j $(JOBS)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run_fuzz.sh build-fuzz

fuzz-smoke: fuzz-build
	FUZZ_SECONDS=20 fuzz/run_fuzz.sh build-fuzz

fuzz-regressions: fuzz-build
	fuzz/run_fuzz.sh --regressions build-fuzz
