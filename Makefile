# qmailctl: a service controller for qmail.
#
# make               build qmailctl and pido into build/
# make check         install missing test packages (as root), build, run every test
# make demo          the five services on loopback: started, shown, checked, zapped, stopped
# make bench         latency figures next to the naive way (not a test)
# make install       DESTDIR=... PREFIX=... as a package would
# make check SANITIZE=1   the same tests against an ASan+UBSan build (in build/san)
# make fuzz          the libFuzzer targets (clang), FUZZ_SECONDS in all (not a test)

VERSION  = 0.1.0
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# The systemd unit: systemd searches /usr/lib/systemd/system (packages) and
# /usr/local/lib/systemd/system (local installs); for any other PREFIX,
# /etc/systemd/system.
UNITDIR ?= $(if $(filter /usr /usr/local,$(PREFIX)),$(PREFIX)/lib/systemd/system,$(SYSCONFDIR)/systemd/system)
DESTDIR ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=
PKG_CONFIG ?= pkg-config

# Flags the code needs whatever the user passes in CFLAGS.  The project's
# headers by "" only (-iquote): <spawn.h> is the system's, not qmailctl/spawn.h.
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
REQ      = -std=c11 -D_GNU_SOURCE -DQMAILCTL_VERSION='"$(VERSION)"' -iquote qmailctl
SSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags openssl 2>/dev/null)
SSL_LIBS   := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)

BUILD = build
ifeq ($(SANITIZE),1)
BUILD    = build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

ALL_CFLAGS  = $(REQ) $(WARN) $(SSL_CFLAGS) $(CFLAGS) $(SANFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# What needs OpenSSL (tls_plugin.h): for qmailctl, the shared object
# qmailctl-tls.so that it loads when it first needs it (tls_load.c);
# libqmailctl-tls.a, linked directly, for the unit tests.
TLS_SRC  = qmailctl/cert_make.c qmailctl/cert_pem.c qmailctl/cgroup_digest.c \
	qmailctl/net_tls.c
TLS_OBJ  = $(TLS_SRC:%.c=$(BUILD)/obj/%.o)
TLS_PIC  = $(patsubst %.c,$(BUILD)/pic/%.o,$(TLS_SRC) tls/plugin.c)

# Every other qmailctl/*.c but main.c and tls_load.c is library code
# that pido, the unit tests and the fuzz targets may link; main.c only
# dispatches.
LIB_SRC  = $(filter-out qmailctl/main.c qmailctl/tls_load.c $(TLS_SRC),$(wildcard qmailctl/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
FIX_SRC  = $(wildcard tests/fixtures/*.c)
FIX_BIN  = $(FIX_SRC:tests/fixtures/%.c=$(BUILD)/tests/fixtures/%)

# hi-q: the filter pipeline in front of qmail-queue (hi-q/, hi-q(8)).
HIQ_OBJ  = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard hi-q/*.c))

# qmailctl-supervise: a service's supervisor, linked without OpenSSL
# (supervise/nossl.c), so that it costs what runsv costs.
SUP_OBJ  = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard supervise/*.c))

PROGRAMS = $(BUILD)/qmailctl $(BUILD)/qmailctl-tls.so \
	$(BUILD)/qmailctl-supervise $(BUILD)/pido $(BUILD)/hi-q \
	$(BUILD)/hi-q-spamlevel

all: $(PROGRAMS)

# Each object depends on the headers it includes: the compiler writes
# them to a .d beside it (-MMD), with an empty rule per header (-MP) so a
# removed header does not stop the build.
DEPFLAGS = -MMD -MP

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden $(DEPFLAGS) -c -o $@ $<

$(BUILD)/libqmailctl.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(BUILD)/libqmailctl-tls.a: $(TLS_OBJ)
	rm -f $@
	$(AR) rcs $@ $(TLS_OBJ)

# The plugin calls a few of qmailctl's own functions (msg_escape, err_set,
# ...): those, and only those, qmailctl exports to it, and links whether
# or not it calls them itself.  The list is made from what the plugin's
# objects need.
$(BUILD)/tls.exports: $(TLS_PIC) $(BUILD)/libqmailctl.a
	nm -u $(TLS_PIC) | awk 'NF == 2 { print $$2 }' | sort -u >$@.need
	nm -g --defined-only $(BUILD)/libqmailctl.a | \
		awk 'NF == 3 { print $$3 }' | sort -u >$@.have
	{ echo '{'; comm -12 $@.need $@.have | sed 's/.*/  &;/'; echo '};'; } >$@.tmp
	rm -f $@.need $@.have
	mv $@.tmp $@

$(BUILD)/qmailctl-tls.so: $(TLS_PIC)
	$(CC) $(ALL_LDFLAGS) -shared -o $@ $^ $(SSL_LIBS)

# No $(SSL_LIBS): the link fails if anything it reaches needs OpenSSL
# other than through tls_load.o.
$(BUILD)/qmailctl: $(BUILD)/obj/qmailctl/main.o $(BUILD)/obj/qmailctl/tls_load.o $(BUILD)/libqmailctl.a $(BUILD)/tls.exports
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -Wl,--dynamic-list=$(BUILD)/tls.exports \
		$$(sed -n 's/^  \(.*\);$$/-Wl,--undefined=\1/p' $(BUILD)/tls.exports) \
		-o $@ $(filter-out %.exports,$^)

# No $(SSL_LIBS): the link fails if anything it reaches needs OpenSSL.
# supervise/*.o come first, so that their probe_once_tls and
# cgroup_site_digest are taken and the library's OpenSSL ones never are.
$(BUILD)/qmailctl-supervise: $(SUP_OBJ) $(BUILD)/libqmailctl.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(BUILD)/pido: $(BUILD)/obj/pido/pido.o $(BUILD)/libqmailctl.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(BUILD)/hi-q: $(HIQ_OBJ) $(BUILD)/libqmailctl.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^


# A filter for hi-q, standalone: it needs nothing of the library.
$(BUILD)/hi-q-spamlevel: $(BUILD)/obj/hi-q/spamlevel/spamlevel.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# The unit tests call the OpenSSL parts directly: the two libraries call
# each other, hence the group.
UNIT_LIBS = -Wl,--start-group $(BUILD)/libqmailctl.a $(BUILD)/libqmailctl-tls.a \
	-Wl,--end-group $(SSL_LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libqmailctl.a $(BUILD)/libqmailctl-tls.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNIT_LIBS)

# The fixtures stand in for daemons, and are not sanitized, as daemons are
# not: at exit LeakSanitizer stops its own process with ptrace (SIGSTOP)
# to look for leaks, the CONT that stop sends after TERM discards that
# stop, and the fixture then hangs for ever (seen in concurrency.sh under
# SANITIZE=1: LSan's tracer in waitpid, the stand-in spinning).
FIX_CFLAGS = $(REQ) $(WARN) $(CFLAGS)

$(BUILD)/obj/tests/fixtures/%.o: tests/fixtures/%.c
	@mkdir -p $(@D)
	$(CC) $(FIX_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/tests/fixtures/%: $(BUILD)/obj/tests/fixtures/%.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^

# fuzz_regress replays every input kept in tests/fuzz through the fuzz
# targets' own entry points, built here without the fuzzer.
FUZZ_ENTRY_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/fuzz/*.c))

$(BUILD)/tests/unit/fuzz_regress: $(BUILD)/obj/tests/unit/fuzz_regress.o $(FUZZ_ENTRY_OBJ) $(BUILD)/obj/hi-q/config.o $(BUILD)/libqmailctl.a $(BUILD)/libqmailctl-tls.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(UNIT_LIBS)

# A shared object that stands in for another build's qmailctl-tls.so.
$(BUILD)/tests/fixtures/tls_other.so: tests/fixtures/so/tls_other.c
	@mkdir -p $(@D)
	$(CC) $(FIX_CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $<

tests: $(PROGRAMS) $(UNIT_BIN) $(FIX_BIN) $(BUILD)/tests/fixtures/tls_other.so

deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) sh tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) sh tests/demo.sh

bench: deps tests
	@BUILD=$(BUILD) sh bench/run.sh

# Programs, man pages, the init script and the unit are replaced; a config
# file that differs from the shipped one is kept, the new one goes beside
# it as FILE.dist.  See init.d/install.sh.
INSTALL_ENV = DESTDIR='$(DESTDIR)' SBINDIR='$(SBINDIR)' MANDIR='$(MANDIR)' \
	SYSCONFDIR='$(SYSCONFDIR)' UNITDIR='$(UNITDIR)' BUILD='$(BUILD)'

install: all
	@$(INSTALL_ENV) sh init.d/install.sh install

uninstall:
	@$(INSTALL_ENV) sh init.d/install.sh uninstall

# make fuzz: each target of tests/fuzz, built with clang's libFuzzer (and
# ASan+UBSan) in build/fuzz, runs for its share of FUZZ_SECONDS, starting
# from a corpus made from services/ and tests/fuzz; prints its executions.
# Inputs that break something are left in build/fuzz/crashes/TARGET/:
# keep each in tests/fuzz/regress/TARGET/, where fuzz_regress replays it.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR      = build/fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS   = $(REQ) $(WARN) $(SSL_CFLAGS) -g -O1 -fno-omit-frame-pointer \
	$(FUZZ_SAN) -fsanitize=fuzzer-no-link -DQMAILCTL_FUZZ
FUZZ_LIB_OBJ  = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRC) $(TLS_SRC))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/obj/tests/fuzz/common.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(SSL_LIBS)

# fuzz_hiq reads hi-q's configuration with hi-q's own reader.
$(FUZZ_DIR)/fuzz_hiq: $(FUZZ_DIR)/obj/hi-q/config.o

fuzz: $(FUZZ_DIR)/fuzz_conf $(FUZZ_DIR)/fuzz_pidfile $(FUZZ_DIR)/fuzz_hiq
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

.PHONY: fuzz

lint:
	mandoc -Tlint -W warning man/*.[1-9]

clean:
	rm -rf build demo

.PHONY: all tests deps check demo bench install uninstall lint clean

-include $(shell find $(BUILD)/obj $(BUILD)/pic $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
.SECONDARY:
