# The two commands of the README. Everything else is reachable through CMake presets
# (see HACKING.md).
DATA ?= siyu-data
LISTEN ?= 127.0.0.1:8080
SIYU_RELEASE := build/release/src/cli/siyu

.PHONY: run test setup build build-dev bench clean

setup:
	@scripts/setup

build: setup
	@cmake --preset release >/dev/null
	@cmake --build --preset release

build-dev: setup
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev

run: build
	@$(SIYU_RELEASE) demo --data $(DATA)
	@echo "Siyu API on http://$(LISTEN)/v1 (routes: /v1/openapi.json; sign in with the login above)"
	@$(SIYU_RELEASE) serve --data $(DATA) --listen $(LISTEN)

test: build-dev
	@ctest --preset dev

bench: setup
	@scripts/bench

clean:
	rm -rf build
