# SPDX-License-Identifier: GPL-2.0
#
# The shared validator: its user-space environment, its unit tests and its
# libFuzzer target.  Included by format/Makefile.
#
#   make check     runs test-validate (plain and ASan+UBSan) and the fuzzer
#                  for $(FUZZ_CHECK_SECONDS) s
#   make fuzz      runs the fuzzer for $(FUZZ_SECONDS) s

# The image builder and TAP output come from the test bed's helper library
# (selftests/lib/, compiled into $(B)/dxt/ and $(B)/san/dxt/).
-include $(TOP)/selftests/lib/lib.mk
CPPFLAGS += $(DXT_CPPFLAGS)
$(eval $(call dxt_rules,$(B)))
$(eval $(call dxt_rules,$(B)/san,$(SANFLAGS)))

PROGS += test-validate gen-corpus
test_validate_SRCS := tests/validate/test_validate.c dxt/dxt_builder.c dxt/dxt_tap.c
gen_corpus_SRCS := fuzz/gen_corpus.c dxt/dxt_builder.c

CHECKS += check-validate check-fuzz-validate

FUZZ_DIR   := $(B)/fuzz
FUZZ_BIN   := $(FUZZ_DIR)/fuzz_validate
FUZZ_SRCS  := fuzz/fuzz_validate.c daxfs_validate.c user/crc32c.c

# The validator against a kernel-like environment (tests/validate/kenv/):
# -nostdinc proves it needs nothing beyond FORMAT.md's list.
KENV_FLAGS  := -std=gnu11 -nostdinc -I$(TOP)/format/tests/validate/kenv \
	       -I$(TOP)/format -O2 -c -Wall -Wextra -Werror \
	       -Wmissing-prototypes -Wstrict-prototypes -Wold-style-definition \
	       -Wdeclaration-after-statement -Wframe-larger-than=512 -Wshadow \
	       -Wpointer-arith -Wvla
KENV_SPARSE := -std=gnu11 -nostdinc -I$(TOP)/format/tests/validate/kenv \
	       -I$(TOP)/format -Wsparse-all -Wno-declaration-after-statement

# TAP from the sanitized build is the suite's result; the plain build must
# pass too and adds one line, the kernel-environment builds a few more.
check-validate: $(B)/test-validate $(B)/san/test-validate daxfs_validate.c
	@mkdir -p $(RES)
	@$(B)/san/test-validate > $(B)/test-validate-san.tap; rc=$$?; \
	 grep -v '^1\.\.' $(B)/test-validate-san.tap > $(RES)/format-validate.tap; \
	 $(B)/test-validate > $(B)/test-validate-plain.tap; prc=$$?; \
	 if [ $$prc -eq 0 ]; then \
		echo "ok - test-validate plain build: $$(grep -c '^ok ' $(B)/test-validate-plain.tap) passed"; \
	 else \
		echo "not ok - test-validate plain build failed (see $(B)/test-validate-plain.tap)"; \
	 fi >> $(RES)/format-validate.tap; \
	 krc=0; for kcc in $(CC) $(CLANG); do \
		command -v $$kcc > /dev/null || continue; \
		if $$kcc $(KENV_FLAGS) -o $(B)/kenv-$$kcc.o daxfs_validate.c \
			> $(B)/kenv-$$kcc.log 2>&1; then \
			echo "ok - daxfs_validate.c builds with $$kcc in the kernel-like environment (no libc, W=1-ish, frame <= 512)"; \
		else \
			krc=1; echo "not ok - daxfs_validate.c fails with $$kcc in the kernel-like environment"; \
			sed 's/^/# /' $(B)/kenv-$$kcc.log; \
		fi; \
	 done >> $(RES)/format-validate.tap; \
	 if command -v sparse > /dev/null; then \
		sparse $(KENV_SPARSE) daxfs_validate.c > $(B)/kenv-sparse.log 2>&1; \
		if [ ! -s $(B)/kenv-sparse.log ]; then \
			echo "ok - daxfs_validate.c is sparse-clean (-Wsparse-all)"; \
		else \
			krc=1; echo "not ok - sparse warnings in daxfs_validate.c"; \
			sed 's/^/# /' $(B)/kenv-sparse.log; \
		fi >> $(RES)/format-validate.tap; \
	 fi; \
	 echo "1..$$(grep -cE '^(ok|not ok)( |$$)' $(RES)/format-validate.tap)" \
		>> $(RES)/format-validate.tap; \
	 cat $(RES)/format-validate.tap; \
	 [ $$rc -eq 0 ] && [ $$prc -eq 0 ] && [ $$krc -eq 0 ]

$(FUZZ_BIN): $(FUZZ_SRCS) $(wildcard *.h user/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS)

# Runs the fuzzer for $(1) seconds on a scratch copy of the committed seed
# corpus (new inputs never land in the repository) and writes one TAP line
# to $(2).  Crash artifacts go to $(FUZZ_DIR)/artifacts/.
define fuzz_run
	@mkdir -p $(RES) $(FUZZ_DIR)/work $(FUZZ_DIR)/artifacts
	@cp -f fuzz/corpus/* $(FUZZ_DIR)/work/ 2>/dev/null || true
	@echo "# fuzz_validate: $(1) s, log $(FUZZ_DIR)/fuzz-$(1).log"
	@cd $(FUZZ_DIR) && ./fuzz_validate -max_total_time=$(1) \
		-print_final_stats=1 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/ work > fuzz-$(1).log 2>&1; \
	 rc=$$?; \
	 n=$$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz-$(1).log | tail -1); \
	 if [ $$rc -eq 0 ]; then \
		echo "ok - fuzz_validate $(1)s $${n:-0} execs"; \
	 else \
		echo "not ok - fuzz_validate $(1)s $${n:-?} execs: crash, see $(FUZZ_DIR)/fuzz-$(1).log and $(FUZZ_DIR)/artifacts/"; \
		grep -m5 -E 'ERROR|runtime error|SUMMARY' fuzz-$(1).log | sed 's/^/# /'; \
	 fi > $(2); cat $(2); [ $$rc -eq 0 ]
endef

# Without clang's libFuzzer runtime the check skips, except in CI.
check-fuzz-validate:
	@mkdir -p $(RES)
	@if ! $(MAKE) --no-print-directory $(FUZZ_BIN) > $(B)/fuzz-build.log 2>&1; then \
		if [ "$$CI" = true ]; then \
			echo "not ok - fuzz_validate: cannot build with $(CLANG) (see $(B)/fuzz-build.log)"; \
		else \
			echo "ok - fuzz_validate # SKIP cannot build with $(CLANG) -fsanitize=fuzzer"; \
		fi > $(RES)/format-fuzz-validate.tap; cat $(RES)/format-fuzz-validate.tap; \
		grep -q '^ok' $(RES)/format-fuzz-validate.tap; \
	else \
		$(MAKE) --no-print-directory fuzz-run-check; \
	fi

fuzz-run-check: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_CHECK_SECONDS),$(RES)/format-fuzz-validate.tap)

fuzz: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_SECONDS),$(RES)/format-fuzz-validate-long.tap)

# Regenerates the committed seed corpus (run by hand after format changes).
corpus: $(B)/gen-corpus
	$(B)/gen-corpus fuzz/corpus

.PHONY: check-validate check-fuzz-validate fuzz-run-check corpus
