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

.PHONY: all lib test asan valgrind demo clean

all: lib $(BUILD)/test-c $(BUILD)/demo-transfer

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

test: $(BUILD)/test-c
	$(BUILD)/test-c

demo: $(BUILD)/demo-transfer
	$(BUILD)/demo-transfer

# The same tests under AddressSanitizer + UBSan, in a build of their own.
asan:
	$(MAKE) BUILD=out/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" out/asan/test-c
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 out/asan/test-c

valgrind: $(BUILD)/test-c
	valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 $(BUILD)/test-c

clean:
	rm -rf out
