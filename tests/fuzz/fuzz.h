/* fuzz.h: the fuzz targets' entry points (tests/fuzz/README).
 *
 * Each entry point takes one input, drives the real library code with it
 * (written to a real file first, so the reading is fuzzed too) and checks
 * what the code promises about its results.  A broken promise calls
 * fuzz_broken(), which aborts: libFuzzer saves the input as a crash, and
 * fuzz_regress (tests/unit/fuzz_regress.c), which runs each saved input in
 * a child of its own, reports that child's death.
 *
 * Built two ways: with clang -fsanitize=fuzzer (make fuzz, QMAILCTL_FUZZ
 * defined: each target file also defines LLVMFuzzerTestOneInput), and as
 * plain objects of the normal build that fuzz_regress links. */
#ifndef QMAILCTL_FUZZ_H
#define QMAILCTL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The configuration parser: site config, service file, argv splitter. */
int fuzz_conf_one(const uint8_t *data, size_t size);

/* hi-q's site file and a filter file (hi-q/config.c). */
int fuzz_hiq_one(const uint8_t *data, size_t size);

/* The pidfile reader. */
int fuzz_pidfile_one(const uint8_t *data, size_t size);

/* A private directory for the files the targets write (under /dev/shm
 * when there is one: no disk writes per input), made on first use and
 * removed when the process that made it exits. */
const char *fuzz_dir(void);

/* "DIR/name" in a static buffer of four, rotating. */
const char *fuzz_path(const char *name);

/* Replaces path with exactly len bytes of data; aborts if it cannot. */
void fuzz_put(const char *path, const void *data, size_t len);

/* A promise was broken: says which on stderr, then aborts. */
_Noreturn void fuzz_broken(const char *what, const char *detail);

/* fuzz_broken(what, detail) unless cond holds. */
#define FUZZ_CHECK(cond, detail) \
	do { \
		if (!(cond)) \
			fuzz_broken(#cond, (detail)); \
	} while (0)

#endif
