# Builds libpgatomic (static and shared), the C tests and the C demo.
# libpq is found with pg_config.  Targets that talk to a server expect the
# PG* variables of a running one; `scripts/pgtmp run -- make test` supplies a
# throwaway server.

PG_CONFIG ?= pg_config
CC ?= cc
BUILD ?= out

PG_INC := $(shell $(PG_CONFIG) --includedir)
PG_LIB := $(shell $(PG_CONFIG) --libdir)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) \
	-fPIC -fvisibility=hidden -Icore/include -Icore/src -I$(PG_INC)
LDLIBS := -L$(PG_LIB) -lpq

CORE_SRC := $(wildcard core/src/*.c)
CORE_OBJ := $(CORE_SRC:core/src/%.c=$(BUILD)/core/%.o)
TEST_SRC := $(wildcard tests/c/*.c)
TEST_OBJ := $(TEST_SRC:tests/c/%.c=$(BUILD)/tests/%.o)
HEADERS := core/include/pgatomic.h core/src/internal.h tests/c/harness.h

.PHONY: all lib test asan valgrind demo clean proxy-check

all: lib $(BUILD)/test-c $(BUILD)/demo-transfer $(BUILD)/pgproxy

lib: $(BUILD)/libpgatomic.a $(BUILD)/libpgatomic.so

$(BUILD)/core/%.o: core/src/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/c/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libpgatomic.a: $(CORE_OBJ)
	ar rcs $@ $^

$(BUILD)/libpgatomic.so: $(CORE_OBJ)
	$(CC) -shared -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/test-c: $(TEST_OBJ) $(BUILD)/libpgatomic.a
	$(CC) $(ALL_CFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libpgatomic.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/demo-transfer: examples/c/transfer.c $(BUILD)/libpgatomic.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libpgatomic.a $(LDFLAGS) $(LDLIBS)

# The loopback proxy that counts round trips, adds latency and injects
# faults (tests/proxy/README.md); it needs nothing but libc.
$(BUILD)/pgproxy: tests/proxy/pgproxy.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -O2 -g -o $@ $<

$(BUILD)/pipeline_client: tests/proxy/pipeline_client.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -O2 -g -I$(PG_INC) -o $@ $< $(LDLIBS)

proxy-check: $(BUILD)/pgproxy $(BUILD)/pipeline_client
	PGPROXY=$(BUILD)/pgproxy PIPELINE_CLIENT=$(BUILD)/pipeline_client bash tests/proxy/check.sh

# The fault tests start out/pgproxy (PGPROXY overrides the path).
test: $(BUILD)/test-c $(BUILD)/pgproxy
	$(BUILD)/test-c

demo: $(BUILD)/demo-transfer
	$(BUILD)/demo-transfer

# The same tests under AddressSanitizer + UBSan, in a build of their own.
asan: $(BUILD)/pgproxy
	$(MAKE) BUILD=out/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" out/asan/test-c
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 out/asan/test-c

valgrind: $(BUILD)/test-c $(BUILD)/pgproxy
	valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 $(BUILD)/test-c

clean:
	rm -rf out

# Fuzzing.  `make fuzz` runs libFuzzer (needs clang-14 and libclang-rt-14-dev
# from Debian) on each target for FUZZ_SECONDS, starting from the committed
# corpus and writing what it finds to out/fuzz/; `make fuzz-replay` runs the
# committed corpus through the same targets with gcc and sanitizers, as CI does.
FUZZ_TARGETS := decode params sqlscan sqlclass placeholders
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang-14
CODEC_SRC := core/src/error.c core/src/params.c core/src/value.c core/src/sqlscan.c \
	core/src/sqlclass.c
FUZZ_FLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -Icore/include -Icore/src -I$(PG_INC)

.PHONY: fuzz fuzz-replay
fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs $(FUZZ_CC): apt-get install clang-14 libclang-rt-14-dev"; exit 1; }
	@mkdir -p $(BUILD)/fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_$$t.c $(CODEC_SRC) -o $(BUILD)/fuzz/fuzz_$$t; \
		mkdir -p $(BUILD)/fuzz/corpus-$$t; \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(BUILD)/fuzz/corpus-$$t tests/fuzz/corpus/$$t; \
	done

fuzz-replay:
	@mkdir -p $(BUILD)/fuzz
	@ok=0; bad=0; for t in $(FUZZ_TARGETS); do \
		if $(CC) $(FUZZ_FLAGS) $(WARN) -fsanitize=address,undefined -fno-sanitize-recover=all \
			tests/fuzz/fuzz_$$t.c tests/fuzz/replay.c $(CODEC_SRC) -o $(BUILD)/fuzz/replay_$$t \
			&& $(BUILD)/fuzz/replay_$$t tests/fuzz/corpus/$$t; \
		then echo "ok   fuzz/$$t"; ok=$$((ok + 1)); else echo "FAIL fuzz/$$t"; bad=$$((bad + 1)); fi; \
	done; echo "$$ok passed, $$bad failed"; [ $$bad = 0 ]

# The long reliability runs of docs/reliability.md: 1,000 seeded fault
# trials per language (CI runs 150), and a longer soak of leaks and
# concurrency.  PGA_FAULT_SEED reproduces a run.  Each starts its own
# throwaway server.
.PHONY: faults-long soak
faults-long: $(BUILD)/pgproxy
	PGA_FAULT_TRIALS=1000 bash scripts/suite-python.sh tests/python/test_fault_trials.py
	PGA_FAULT_TRIALS=1000 bash scripts/suite-node.sh tests/node/fault-trials.test.js

soak: $(BUILD)/pgproxy
	PGA_LEAK_BLOCKS=1000000 PGA_CONCURRENCY_SECONDS=60 bash scripts/suite-python.sh \
		tests/python/test_leaks.py tests/python/test_concurrency.py
	PGA_LEAK_TRANSACTIONS=1000000 PGA_CONCURRENCY_SECONDS=60 bash scripts/suite-node.sh \
		tests/node/leaks.test.js tests/node/concurrency.test.js
