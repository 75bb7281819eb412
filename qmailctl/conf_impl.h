/* conf_impl.h: what the parts of the configuration layer share, and no
 * other file may use (conf.h is the contract).  The parts, bottom up; each
 * uses only those listed before it:
 *
 *   conf_lex.c      words: growing strings and arrays, splitting into argv,
 *                   ${var}, ${uid:} and ${gid:} expansion, numbers
 *   conf_file.c     the one file reader: lines, "key = value", size bounds
 *   conf_sup.c      the supervision keys, in the site file (defaults) and
 *                   in the service files
 *   conf_site.c     the site file: builtin and typed keys, the variables,
 *                   service names, the service directory
 *   conf_service.c  the service files: the key table and its setters */
#ifndef QMAILCTL_CONF_IMPL_H
#define QMAILCTL_CONF_IMPL_H

#include "conf.h"

#include <stddef.h>

/* A config line this long is a mistake or an attack, not a setting; the
 * bound keeps every message and buffer small. */
#define LINE_MAX_LEN    (64 * 1024)
/* Refused before parsing, so a runaway file cannot eat memory. */
#define FILE_MAX_LEN    (16 * 1024 * 1024)
/* Expansion multiplies: "x1 = ${x0}${x0}", "x2 = ${x1}${x1}", ... doubles
 * a value per line, and 40 short lines would ask for a terabyte.  So a
 * value may hold, once expanded, what a line may hold, and the values a
 * file stores (site variables, env lines) at most what a file may hold. */
#define VALUE_MAX_LEN   LINE_MAX_LEN
#define STORED_MAX_LEN  FILE_MAX_LEN
/* Keys and variable names are identifiers; this is generous. */
#define KEY_MAX_LEN     64
/* User messages quote what they complain about, clipped to this.  They
 * quote it raw: the writer escapes (msg.h). */
#define QUOTE           "%.64s"

/* A string that grows; s is NULL until something is added. */
struct conf_buf {
	char *s;
	size_t len, cap;
};

void conf_buf_add(struct conf_buf *b, const char *s, size_t n);
void conf_buf_addc(struct conf_buf *b, char c);
/* Hands the string over (never NULL) and leaves b empty. */
char *conf_buf_take(struct conf_buf *b);

/* A NULL-terminated array of strings that grows. */
struct conf_vec {
	char **v;
	size_t n, cap;
};

void conf_vec_push(struct conf_vec *v, char *s);
/* Hands the array over (never NULL) and leaves v empty. */
char **conf_vec_take(struct conf_vec *v);

static inline int conf_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static inline int conf_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A letter or '_': what an identifier starts with. */
static inline int conf_is_alpha_(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* [A-Za-z_][A-Za-z0-9_]* of n bytes: a variable, a key, an env name. */
int conf_is_ident(const char *s, size_t n);

/* A value that is one word whatever it contains (a path, an env value, a
 * site value): backslashes and ${...} are honoured, blanks and quotes are
 * data.  *out is the new word. */
int conf_expand_word(const struct site *site, const char *text,
    const char *where, char **out, struct err *e);

/* A duration key's value into *out milliseconds: seconds (up to 3
 * decimals, more than 0) when seconds is set, else whole milliseconds;
 * at most a day.  FILE:LINE errors name the key. */
#define TIME_MAX_MS     (86400LL * 1000)
int conf_parse_duration(const struct conf_kv *kv, int seconds, long *out,
    struct err *e);

/* restart, restart_limit, backoff_max (conf_sup.c): 1 if kv is one of
 * them, set into *sup; 0 if it is not; -1 on a bad value. */
int conf_supervision_key(const struct conf_kv *kv, struct supervision *sup,
    struct err *e);

/* Digits, optionally a point and up to frac more digits; the result is
 * scaled by 10^frac ("0.5" seconds with frac 3 is 500 ms).  No sign, no
 * blanks, nothing after.  Returns -1 if malformed, -2 if above max. */
int conf_parse_fixed(const char *s, int frac, unsigned long long max,
    unsigned long long *out);

#endif
