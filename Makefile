# marketing: the operator console of the marketing system.
#
#   make            build the console, the demo backend and the data generator
#   make demo       run the console on the embedded demo stack (all steps)
#   make check      unit, integration and end-to-end tests (real PostgreSQL, tmux)
#   make asan       the same suite on an AddressSanitizer+UBSan build
#   make tsan       the threaded tests on a ThreadSanitizer build
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS each (clang)
#   make coverage   line coverage of src/ (fails under 80%)
#   make lint       cppcheck and clang-tidy
#   make deps       install the Debian packages the build, tests and demo need
#   make install    PREFIX=/usr/local DESTDIR= ; V=1 shows the commands
VERSION := 0.1.0

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
MANDIR := $(PREFIX)/share/man
DATADIR := $(PREFIX)/share/marketing
SYSCONFDIR ?= /etc

B ?= build
CC ?= cc
PKGS := ncursesw libpq libcurl jansson yaml-0.1
TEST_PKGS := cmocka
BACKEND_PKGS := libpq jansson libmicrohttpd

# Evaluated on first use, not when the Makefile is read, so that
# 'make deps demo' on a fresh machine sees the packages deps installed.
lazy = $(eval $(1) := $$(shell pkg-config $(2) 2>/dev/null))$($(1))
PKG_CFLAGS = $(call lazy,PKG_CFLAGS,--cflags $(PKGS))
PKG_LIBS = $(call lazy,PKG_LIBS,--libs $(PKGS))
TEST_LIBS = $(call lazy,TEST_LIBS,--libs $(TEST_PKGS))
BACKEND_CFLAGS = $(call lazy,BACKEND_CFLAGS,--cflags $(BACKEND_PKGS))
BACKEND_LIBS = $(call lazy,BACKEND_LIBS,--libs $(BACKEND_PKGS))

# -Wno-format-truncation: messages are cut to their buffers on purpose, and
# GCC's guess at what might be cut changes with the optimization level.
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -Wwrite-strings -Wno-missing-field-initializers -Werror \
        $(if $(findstring clang,$(CC)),,-Wno-format-truncation)
OPT ?= -O2 -g
SAN ?=
DEFS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
        -DMARKETING_VERSION='"$(VERSION)"' -DMARKETING_DATADIR='"$(DATADIR)"' \
        -DMARKETING_SYSCONFDIR='"$(SYSCONFDIR)"' -Isrc -Iui -I$(B)/gen
CFLAGS_ALL := $(DEFS) $(OPT) $(SAN) $(WARN) $(CFLAGS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS) -pthread

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

CORE_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
UI_SRC := $(wildcard ui/*.c)
BACKEND_SRC := $(wildcard demo/backend/*.c)
GEN_SRC := $(wildcard demo/gen/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
ITEST_SRC := $(wildcard tests/integration/test_*.c)
SQL := $(sort $(wildcard sql/[0-9]*.sql))
THEMES := $(sort $(wildcard themes/*.theme))
RULES := rules/marketing.rules.yml
RUNBOOKS := $(sort $(wildcard rules/runbooks/*.md))

CORE_OBJ := $(CORE_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/migrations.o $(B)/obj/gen/themes.o \
            $(B)/obj/gen/rules.o
UI_OBJ := $(UI_SRC:%.c=$(B)/obj/%.o)
BACKEND_OBJ := $(BACKEND_SRC:%.c=$(B)/obj/%.o)
GEN_OBJ := $(GEN_SRC:%.c=$(B)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
ITEST_BIN := $(ITEST_SRC:tests/integration/%.c=$(B)/itests/%)

PROGS := $(B)/marketing $(B)/marketing-demo-backend $(B)/marketing-demo-gen

# keep objects that pattern-rule chains would otherwise delete
.SECONDARY:

.PHONY: all check unit asan tsan coverage fuzz lint deps install uninstall demo demo-up demo-down clean
all: $(PROGS) $(UNIT_BIN) $(ITEST_BIN)

$(B)/gen/migrations.c: $(SQL) tools/embed-sql.sh
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)sh tools/embed-sql.sh $(SQL) >$@.tmp && mv $@.tmp $@

$(B)/gen/themes.c: $(THEMES) tools/embed-themes.sh
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)sh tools/embed-themes.sh $(THEMES) >$@.tmp && mv $@.tmp $@

$(B)/gen/rules.c: $(RULES) $(RUNBOOKS) tools/embed-rules.sh
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)sh tools/embed-rules.sh $(RULES) $(RUNBOOKS) >$@.tmp && mv $@.tmp $@

$(B)/obj/gen/%.o: $(B)/gen/%.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/demo/%.o: demo/%.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) $(BACKEND_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/tests/%.o: tests/%.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS_ALL) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libmarketing.a: $(CORE_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/marketing: $(B)/obj/src/main.o $(UI_OBJ) $(B)/libmarketing.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lm

$(B)/marketing-demo-backend: $(BACKEND_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(BACKEND_LIBS) $(PKG_LIBS) -lm

$(B)/marketing-demo-gen: $(GEN_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lm

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(B)/libmarketing.a
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(PKG_LIBS) -lm

# cmocka programs that need a database: run by tests/integration/*.sh
$(B)/itests/%: $(B)/obj/tests/integration/%.o $(B)/libmarketing.a
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(TEST_LIBS) $(PKG_LIBS) -lm

# The README's test command. Starts its own PostgreSQL clusters and demo stacks.
check: all
	$(Q)MARKETING_BUILD=$(CURDIR)/$(B) tests/run.sh $(TESTS)

unit: all
	$(Q)MARKETING_BUILD=$(CURDIR)/$(B) tests/run.sh unit

asan:
	$(Q)MARKETING_SKIP_DIFFERENTIAL=1 $(MAKE) --no-print-directory B=build-asan \
	    OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=undefined' check

# ThreadSanitizer over the tests that run our threads (the database worker,
# the console, the demo backend).
TSAN_TESTS := unit tests/integration/dbworker.sh tests/integration/poller.sh tests/e2e/promserver.sh \
              tests/integration/backend_http.sh tests/integration/control_db.sh \
              tests/e2e/console.sh tests/e2e/faults.sh tests/e2e/race.sh \
              tests/e2e/outcome_console.sh
tsan:
	$(Q)$(MAKE) --no-print-directory B=build-tsan OPT='-O1 -g' SAN='-fsanitize=thread' \
	    TESTS='$(TSAN_TESTS)' check

# libFuzzer targets (clang): each runs FUZZ_SECONDS from its seed corpus in
# tests/fuzz/corpus/NAME; findings stop the run. New inputs go to
# build-fuzz/corpus, not into the repository.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 20
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
$(B)/fuzz/%: $(B)/obj/tests/fuzz/%.o $(B)/libmarketing.a
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) -lm
fuzz-bins: $(FUZZ_BIN)
fuzz:
	$(Q)$(MAKE) --no-print-directory B=build-fuzz CC=clang OPT='-O1 -g' \
	    SAN='-fsanitize=address,undefined,fuzzer-no-link' fuzz-bins
	$(Q)for f in build-fuzz/fuzz/fuzz_*; do \
	    n=$${f##*/}; mkdir -p build-fuzz/corpus/$$n; \
	    printf '  FUZZ    %s (%ss)\n' $$n $(FUZZ_SECONDS); \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=0 build-fuzz/corpus/$$n tests/fuzz/corpus/$$n \
	        >build-fuzz/$$n.log 2>&1 || { tail -n 40 build-fuzz/$$n.log; exit 1; }; \
	    grep -E '^(Done|#[0-9]+ *DONE)' build-fuzz/$$n.log | tail -n 1; \
	done

coverage:
	$(Q)rm -rf build-cov/obj
	$(Q)MARKETING_SKIP_DIFFERENTIAL=1 $(MAKE) --no-print-directory B=build-cov OPT='-O0 -g' \
	    SAN='--coverage -fprofile-update=atomic' check
	$(Q)gcovr --root . --object-directory build-cov/obj --filter 'src/' \
	    --print-summary --fail-under-line 80 -o build-cov/coverage.txt build-cov/obj
	@tail -n 3 build-cov/coverage.txt

LINT_SRC := $(wildcard src/*.c ui/*.c demo/*/*.c)
lint: $(B)/gen/migrations.c $(B)/gen/themes.c $(B)/gen/rules.c
	$(call msg,CPPCHECK,'src ui demo')
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --std=c11 -Isrc -Iui $(LINT_SRC)
	$(call msg,TIDY,'src ui demo')
	$(Q)clang-tidy --quiet $(LINT_SRC) -- $(DEFS) $(PKG_CFLAGS) $(BACKEND_CFLAGS) 2>/dev/null

deps:
	$(Q)tools/deps.sh

demo: $(PROGS)
	$(Q)MARKETING_BUILD=$(CURDIR)/$(B) demo/stack.sh demo

demo-up: $(PROGS)
	$(Q)MARKETING_BUILD=$(CURDIR)/$(B) demo/stack.sh up $(CURDIR)/.demo

demo-down:
	$(Q)MARKETING_BUILD=$(CURDIR)/$(B) demo/stack.sh down $(CURDIR)/.demo

install: $(PROGS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(DATADIR)/themes $(DESTDIR)$(DATADIR)/demo $(DESTDIR)$(SYSCONFDIR)/marketing
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 644 man/marketing.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/marketing.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(if $(wildcard themes/*.theme),install -m 644 $(wildcard themes/*.theme) $(DESTDIR)$(DATADIR)/themes/)
	install -m 644 marketing.conf $(DESTDIR)$(DATADIR)/marketing.conf.sample
	test -e $(DESTDIR)$(SYSCONFDIR)/marketing/marketing.conf || \
	    install -m 644 marketing.conf $(DESTDIR)$(SYSCONFDIR)/marketing/marketing.conf

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGS)))
	rm -f $(DESTDIR)$(MANDIR)/man1/marketing.1 $(DESTDIR)$(MANDIR)/man5/marketing.conf.5
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-asan build-tsan build-cov build-fuzz

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
