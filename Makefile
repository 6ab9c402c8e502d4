# foshub - hub-core, the hubs and the foshub CLI.
#
#   make            build build/foshub (warnings are errors)
#   make test       unit, HTTP, MCP, IdP, identity and browser tests, plain
#                   and under ASan + UBSan; the storage-touching ones (unit,
#                   HTTP) once more against a throwaway PostgreSQL cluster
#                   (plain build); each fuzz target briefly
#   make run        the federation (foshub up: IdP 8000, dev-hub 8001, ops-hub
#                   8002, fin-hub 8003), dev-hub with the example workplans
#   make SAN=1 BUILD=build/asan   a sanitizer build
#   make bench      the benchmark (bench/), writes bench/RESULTS.md
#   make soak       dev-hub under ten minutes of mixed load (bench/soak.py)
#
# Missing Debian -dev packages are installed by scripts/install-deps.sh.

VERSION := 0.1.0
BUILD ?= build
SAN ?=
CC ?= cc
PYTHON ?= python3

PKGS := libmicrohttpd jansson sqlite3 libpq yaml-0.1 libcmark-gfm libcrypto \
	cjose libargon2 liboath libqrencode libcurl libnats
TEST_PKGS := cmocka

# Messages are cut to fixed sizes on purpose (struct hc_err), so gcc's
# guesses about snprintf truncation are not errors here.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -Wno-unused-parameter \
	-Wno-format-truncation
OPT := -O2
ifeq ($(SAN),1)
OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
SAN_LDFLAGS := -fsanitize=address,undefined
endif
# libFuzzer targets: everything built with clang, instrumented for the
# fuzzer, with ASan and UBSan (clang warns differently from gcc: the gcc
# build is the one whose warnings are errors).
ifeq ($(SAN),fuzz)
CC := clang
OPT := -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=undefined
WARN_AFTER := -Wno-error -Wno-unknown-warning-option
SAN_LDFLAGS := -fsanitize=address,undefined
endif

CPPFLAGS += -Iinclude -I. -D_GNU_SOURCE -DFOSHUB_VERSION='"$(VERSION)"'
CFLAGS += -std=c17 -g $(OPT) $(WARN) $(WARN_AFTER) -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
# Libraries without a pkg-config file (libcsv: fin-hub's CSV imports).
NOPC_LIBS := -lcsv
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) $(NOPC_LIBS) -lpthread
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS))
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS))

HUBCORE_SRC := $(sort $(wildcard hubcore/*/*.c))
# Each hub is a folder of its own on top of hub-core's public API; all of
# them go into one library that the foshub binary links.
HUB_DIRS := devhub opshub finhub idp
HUBS_SRC := $(sort $(foreach d,$(HUB_DIRS),$(wildcard $(d)/*.c)))
CLI_SRC := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_HELPERS := $(filter-out tests/unit/test_%,$(wildcard tests/unit/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
HUBCORE_OBJ := $(call obj,$(HUBCORE_SRC))
HUBS_OBJ := $(call obj,$(HUBS_SRC))
CLI_OBJ := $(call obj,$(CLI_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
HELPER_OBJ := $(call obj,$(UNIT_HELPERS))

LIBHUBCORE := $(BUILD)/libhubcore.a
LIBHUBS := $(BUILD)/libhubs.a
FOSHUB := $(BUILD)/foshub
DEPS_STAMP := build/.deps-build
TEST_DEPS_STAMP := build/.deps-test
BENCH_DEPS_STAMP := build/.deps-bench
MCP_STDIO := $(BUILD)/bench/mcp-stdio

.PHONY: all deps test-deps mcp-deps idp-deps auth-deps ui-deps unit-bins unit \
	http-test mcp-test idp-test auth-test ui-test pg-test test fuzz fuzz-bins \
	fuzz-run bench bench-smoke soak soak-smoke \
	run clean fmt

all: $(FOSHUB)

$(DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	scripts/install-deps.sh build
	@touch $@

$(TEST_DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	scripts/install-deps.sh test
	@touch $@

$(BENCH_DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	scripts/install-deps.sh bench
	@touch $@

deps: $(DEPS_STAMP)
test-deps: $(TEST_DEPS_STAMP)

# The MCP tests' npm packages (official SDK clients, conformance suite,
# a Node 22 binary for the suite), pinned by tests/mcp/package-lock.json.
MCP_STAMP := tests/mcp/node_modules/.installed
$(MCP_STAMP): tests/mcp/package.json tests/mcp/package-lock.json
	cd tests/mcp && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
mcp-deps: $(MCP_STAMP)

# The IdP tests' relying party (openid-client) and JOSE library (jose),
# pinned by tests/idp/package-lock.json.
IDP_STAMP := tests/idp/node_modules/.installed
$(IDP_STAMP): tests/idp/package.json tests/idp/package-lock.json
	cd tests/idp && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
idp-deps: $(IDP_STAMP)

# The identity tests' npm packages: openid-client, jose and the official
# MCP SDK client (its OAuth flow), pinned by tests/auth/package-lock.json.
AUTH_STAMP := tests/auth/node_modules/.installed
$(AUTH_STAMP): tests/auth/package.json tests/auth/package-lock.json
	cd tests/auth && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
auth-deps: $(AUTH_STAMP)

# The browser tests' driver (playwright-core, which drives Debian's
# chromium: no browser download) and axe-core, pinned by
# tests/ui/package-lock.json.
UI_STAMP := tests/ui/node_modules/.installed
$(UI_STAMP): tests/ui/package.json tests/ui/package-lock.json
	cd tests/ui && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
ui-deps: $(UI_STAMP)

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c | $(TEST_DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(TEST_CFLAGS) $(CFLAGS) -c $< -o $@

# dev-hub's rule file template is built into rules.o (.incbin).
$(BUILD)/obj/devhub/rules.o: devhub/templates/session-protocol.md.tmpl
# The pages' script, style sheet and icon are built into assets.o.
$(BUILD)/obj/hubcore/view/assets.o: $(wildcard hubcore/view/assets/*)

$(LIBHUBCORE): $(HUBCORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBHUBS): $(HUBS_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(FOSHUB): $(CLI_OBJ) $(LIBHUBS) $(LIBHUBCORE)
	$(CC) $(SAN_LDFLAGS) -o $@ $(CLI_OBJ) $(LIBHUBS) $(LIBHUBCORE) $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(HELPER_OBJ) $(LIBHUBS) $(LIBHUBCORE)
	@mkdir -p $(@D)
	$(CC) $(SAN_LDFLAGS) -o $@ $< $(HELPER_OBJ) $(LIBHUBS) $(LIBHUBCORE) \
		$(PKG_LIBS) $(TEST_LIBS)

# libFuzzer targets (make fuzz): one per parser of untrusted bytes.
$(BUILD)/fuzz/%: $(BUILD)/obj/fuzz/%.o $(BUILD)/obj/fuzz/util.o $(LIBHUBS) \
		$(LIBHUBCORE)
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(BUILD)/obj/fuzz/util.o $(LIBHUBS) $(LIBHUBCORE) $(PKG_LIBS)
fuzz-bins: $(FUZZ_BIN)

# Each target runs FUZZ_SECONDS on its seeds (fuzz/corpus/TARGET, in git)
# and what earlier runs found (build/fuzz-corpus/TARGET); a crash leaves
# its input in build/fuzz-artifacts/ and fails. fuzz/regressions/TARGET
# holds inputs that once crashed: they run every time.
FUZZ_SECONDS ?= 60
fuzz-run: fuzz-bins
	@fail=0; for t in $(FUZZ_BIN); do \
		n=$$(basename $$t); \
		mkdir -p build/fuzz-corpus/$$n build/fuzz-artifacts fuzz/corpus/$$n; \
		if [ -d fuzz/regressions/$$n ]; then \
			$$t fuzz/regressions/$$n/* || { echo "REGRESSION: $$n"; fail=1; }; \
		fi; \
		echo "== $$n ($(FUZZ_SECONDS) s)"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=build/fuzz-artifacts/$$n- \
			build/fuzz-corpus/$$n fuzz/corpus/$$n 2>build/fuzz-$$n.log \
			|| { echo "FAILED: $$n (see build/fuzz-$$n.log)"; \
			     tail -40 build/fuzz-$$n.log; fail=1; }; \
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)' \
			build/fuzz-$$n.log | tr '\n' ' '; echo; \
	done; exit $$fail

fuzz: test-deps
	$(MAKE) SAN=fuzz BUILD=build/fuzz fuzz-run

unit-bins: $(UNIT_BIN) $(FOSHUB)

# Each unit test binary runs in its own process from the repository root.
unit: unit-bins
	@fail=0; for t in $(UNIT_BIN); do \
		printf '== %s\n' "$$t"; \
		timeout 120 $$t || { echo "FAILED: $$t"; fail=1; }; \
	done; exit $$fail

http-test: $(FOSHUB)
	$(PYTHON) tests/http/run.py --bin $(FOSHUB)

# MCP: the official TypeScript SDK clients over stdio and HTTP, then the
# official conformance suite for both protocol eras.
mcp-test: $(FOSHUB) $(MCP_STAMP)
	FOSHUB_BIN=$(abspath $(FOSHUB)) node --test tests/mcp/*.test.mjs
	CONFORMANCE_OUT=$(abspath $(BUILD))/conformance \
		tests/mcp/conformance.sh $(abspath $(FOSHUB))

# The IdP: a real relying party (openid-client) through every flow and
# refusal, TOTP codes from oathtool, tokens verified with jose.
idp-test: $(FOSHUB) $(IDP_STAMP)
	FOSHUB_BIN=$(abspath $(FOSHUB)) node --test tests/idp/*.test.mjs

# The benchmark's MCP stdio client (a C client, so that the figure is the
# server's).
$(MCP_STDIO): bench/mcp_stdio.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $<

# The benchmark (minutes; not part of make test): bench/RESULTS.md.
bench: $(FOSHUB) $(MCP_STDIO) $(BENCH_DEPS_STAMP)
	$(PYTHON) bench/bench.py --bin $(FOSHUB) --stdio-client $(MCP_STDIO)

# Each benchmark once, briefly, on tiny data: the scripts must not rot.
bench-smoke: $(FOSHUB) $(MCP_STDIO) $(BENCH_DEPS_STAMP)
	$(PYTHON) bench/bench.py --smoke --bin $(FOSHUB) \
		--stdio-client $(MCP_STDIO) --out $(BUILD)/bench/RESULTS-smoke.md

# Identity checks: the IAM contract end to end (openid-client, a FastAPI
# service with PyJWT), forged tokens, the MCP SDK client's OAuth flow, and
# Glewlwyd as a provider foshub did not write.
auth-test: $(FOSHUB) $(AUTH_STAMP) $(IDP_STAMP)
	FOSHUB_BIN=$(abspath $(FOSHUB)) node --test tests/auth/*.test.mjs

# The unit and HTTP tests (every test that touches storage) against
# PostgreSQL: a throwaway cluster (initdb, pg_ctl) on a free loopback port
# under $(BUILD)/pg, removed afterwards whatever happened. Each test gets a
# fresh database on it (FOSHUB_TEST_PG).
PG_DIR := $(BUILD)/pg
pg-test: $(UNIT_BIN) $(FOSHUB) | $(TEST_DEPS_STAMP)
	@url=$$(tests/pg/cluster.sh start $(PG_DIR)) || exit 1; \
	trap 'tests/pg/cluster.sh stop $(PG_DIR)' EXIT INT TERM; \
	echo "PostgreSQL test cluster: $$url"; \
	FOSHUB_TEST_PG=$$url $(MAKE) --no-print-directory unit http-test

# The pages in a real browser (headless Chromium): content, live updates
# without a reload, keyboard, phone, dark and light, axe-core's WCAG 2 AA
# rules. Screenshots are written to $(BUILD)/ui/.
ui-test: $(FOSHUB) $(UI_STAMP)
	FOSHUB_BIN=$(abspath $(FOSHUB)) UI_ARTIFACTS=$(abspath $(BUILD))/ui \
		node --test tests/ui/*.test.mjs

# Ten minutes of mixed load (reads, MCP calls, writes on 64 connections):
# no error, every acknowledged write stored, no growth of memory after
# warm-up, a clean stop. Not part of make test; SOAK_SECONDS to change.
SOAK_SECONDS ?= 600
soak: $(FOSHUB) $(BENCH_DEPS_STAMP)
	$(PYTHON) bench/soak.py --bin $(FOSHUB) --seconds $(SOAK_SECONDS) \
		--out $(BUILD)/soak/RESULTS.md

# The soak, briefly: under the build's sanitizers (make SAN=1) and, on the
# normal build, under valgrind's memcheck; a memory error or a leak fails.
soak-smoke: $(FOSHUB) $(BENCH_DEPS_STAMP)
	$(PYTHON) bench/soak.py --bin $(FOSHUB) --seconds 20 \
		--out $(BUILD)/soak/RESULTS-smoke.md
ifeq ($(SAN),)
	$(PYTHON) bench/soak.py --bin $(FOSHUB) --seconds 10 --valgrind \
		--connections 8 --out $(BUILD)/soak/RESULTS-valgrind.md
endif

# The whole suite: the normal build (on SQLite, then on PostgreSQL), then
# the same tests on an AddressSanitizer + UndefinedBehaviorSanitizer build
# (SQLite only: the PostgreSQL run exercises the same C code, and doubling
# it under ASan would cost minutes for little), then each fuzz target
# briefly; the benchmark's smoke only on the normal build, the soak's on
# both (valgrind on the normal one).
test: test-deps mcp-deps idp-deps auth-deps ui-deps
	$(MAKE) unit http-test mcp-test idp-test auth-test ui-test bench-smoke \
		soak-smoke
	$(MAKE) pg-test
	$(MAKE) SAN=1 BUILD=$(BUILD)/asan unit http-test mcp-test idp-test \
		auth-test ui-test soak-smoke
	$(MAKE) SAN=fuzz BUILD=$(BUILD)/fuzz FUZZ_SECONDS=5 fuzz-run

VAR := var
# The examples are imported into a new database only: a restart keeps what
# was changed through the API since.
run: $(FOSHUB)
	@mkdir -p $(VAR)
	@if [ ! -e $(VAR)/dev-hub.db ]; then \
		echo $(FOSHUB) workplan import --db sqlite:$(VAR)/dev-hub.db examples/workplans; \
		$(FOSHUB) workplan import --db sqlite:$(VAR)/dev-hub.db examples/workplans; \
	fi
	@echo "IdP test fixtures (examples/idp/idp.yaml): user alice / alice-dev-password;" \
	     "a token for curl: FOSHUB_AUTH_CLIENT_ID=dev-hub" \
	     "FOSHUB_AUTH_CLIENT_SECRET=devhub-dev-secret $(FOSHUB) token http://127.0.0.1:8001" \
	     "(dev-hub; each hub wants its own: 8002 ops-hub, 8003 fin-hub)"
	$(FOSHUB) up --var $(VAR) --idp-config examples/idp/idp.yaml \
		--secrets-dir examples/idp/secrets

clean:
	rm -rf build

fmt:
	clang-format -i $(HUBCORE_SRC) $(HUBS_SRC) $(CLI_SRC) include/hubcore/*.h \
		$(foreach d,$(HUB_DIRS),$(wildcard $(d)/*.h))

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
.SECONDARY:
