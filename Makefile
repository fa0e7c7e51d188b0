# ikegw — plain GNU make.  `make help` lists the targets.
.DEFAULT_GOAL := all
.SUFFIXES:
.SECONDARY:
MAKEFLAGS += --no-builtin-rules

VERSION    := 0.1.0
PREFIX     ?= /usr
DESTDIR    ?=
BUILD      ?= build
CC         ?= cc
FUZZ_CC    ?= clang
FUZZ_SECONDS ?= 60
PKGS       := openssl libmnl yaml-0.1 libcap

# Every Debian package the build, the tests, the demo and the benchmarks need.
DEB_PKGS := build-essential pkg-config libssl-dev libmnl-dev libyaml-dev libcap-dev \
	libcmocka-dev clang libclang-rt-14-dev llvm iproute2 iputils-ping nftables tcpdump \
	procps openssl iperf3 python3 strongswan-charon strongswan-swanctl strongswan-pki \
	libstrongswan-standard-plugins libcharon-extra-plugins libcharon-extauth-plugins freeradius

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OSSL     := -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED
OPT      ?= -O2 -g
SAN      ?=
CFLAGS   := -std=gnu11 $(OPT) $(WARN) $(HARDEN) $(OSSL) $(SAN) -Iinclude $(PKG_CFLAGS) \
	-DIKEGW_VERSION='"$(VERSION)"' $(EXTRA_CFLAGS)
LDFLAGS  := -pie -Wl,-z,relro,-z,now $(SAN) $(EXTRA_LDFLAGS)

PROG_SRC := src/main.c src/ikegwctl.c
LIB_SRC  := $(filter-out $(PROG_SRC),$(sort $(wildcard src/*/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libikegw.a

TEST_SUPPORT_SRC := $(sort $(wildcard tests/unit/support/*.c))
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz-obj/%.o)
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -Wall -Wextra -Werror $(OSSL) -Iinclude $(PKG_CFLAGS)

.PHONY: all deps unit test check fuzz fuzz-build bench demo install clean help interop

all: $(BUILD)/ikegwd $(BUILD)/ikegwctl

help:
	@echo "all      build $(BUILD)/ikegwd and $(BUILD)/ikegwctl"
	@echo "deps     install every Debian package the build and tests need (root)"
	@echo "unit     build and run the cmocka unit tests"
	@echo "test     deps + build + every test (unit and interop)"
	@echo "check    the whole suite under AddressSanitizer + UBSan"
	@echo "fuzz     build the libFuzzer targets and run each FUZZ_SECONDS (default 60)"
	@echo "bench    throughput through the tunnel: ikegwd vs strongSwan (figures)"
	@echo "demo     a strongSwan client connects in network namespaces and pings through"
	@echo "install  install binaries, unit, config and man pages (PREFIX, DESTDIR)"

deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
			|| missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all packages present"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	if [ "$$(id -u)" != 0 ]; then echo "deps: run as root to install:$$missing" >&2; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -q && apt-get install -y -q --no-install-recommends $$missing

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/ikegwd: $(BUILD)/src/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/ikegwctl: $(BUILD)/src/ikegwctl.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_SUPPORT_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

unit: $(TEST_BIN)
	@tests/run.sh $(BUILD) unit

interop: all
	@tests/run.sh $(BUILD) interop

test: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN)
	@tests/run.sh $(BUILD) all

# The whole suite with AddressSanitizer and UndefinedBehaviorSanitizer, in its own tree.
check: deps
	@$(MAKE) --no-print-directory BUILD=build/san OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all \
		$(TEST_BIN:$(BUILD)/%=build/san/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/run.sh build/san all

$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ -o $@ $(PKG_LIBS)

$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(TEST_SUPPORT_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# Figures, not pass/fail: the IKE path's cost in process, then throughput through the
# tunnel, ikegwd vs strongSwan (that part needs root for network namespaces).
bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/handshake
	@$(BUILD)/bench/handshake 2000
	@IKEGW_BUILD=$(CURDIR)/$(BUILD) bash tests/bench/throughput.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@IKEGW_BUILD=$(CURDIR)/$(BUILD) bash tests/interop/demo.sh

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

install: all
	install -D -m 0755 $(BUILD)/ikegwd $(DESTDIR)$(PREFIX)/sbin/ikegwd
	install -D -m 0755 $(BUILD)/ikegwctl $(DESTDIR)$(PREFIX)/sbin/ikegwctl
	install -D -m 0644 conf/ikegw.yaml $(DESTDIR)/etc/ikegw/ikegw.yaml.example
	@if [ -f conf/ikegw.service ]; then install -D -m 0644 conf/ikegw.service \
		$(DESTDIR)/lib/systemd/system/ikegw.service; fi
	@for m in docs/*.[0-9]; do [ -f "$$m" ] || continue; s=$${m##*.}; \
		install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/$${m##*/}; done

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
