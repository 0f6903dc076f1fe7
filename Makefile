# The two commands of the README. Everything else is reachable through CMake presets
# (see HACKING.md).
DATA ?= siyu-data
LISTEN ?= 127.0.0.1:8080
SIYU_RELEASE := build/release/src/cli/siyu

.PHONY: run test setup web build build-dev bench clean

setup:
	@scripts/setup

# The console: npm ci only when the lock file changed, then a production build into web/dist.
web/node_modules/.package-lock.json: web/package-lock.json
	@cd web && npm ci --no-audit --no-fund
web: web/node_modules/.package-lock.json
	@cd web && npm run build --silent

build: setup web
	@cmake --preset release >/dev/null
	@cmake --build --preset release

build-dev: setup web
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev

run: build
	@$(SIYU_RELEASE) demo --data $(DATA)
	@echo "Siyu console and API on http://$(LISTEN)/ (sign in with the login above)"
	@$(SIYU_RELEASE) serve --data $(DATA) --listen $(LISTEN) --static web/dist

test: build-dev
	@ctest --preset dev

bench: setup
	@scripts/bench

clean:
	rm -rf build
