/* report.c: what one message's verdicts mean to the caller and the log.
 *
 * The caller (qmail-smtpd) understands qmail-queue's exit codes, and with
 * 82 the text on its fd 6: "D..." is a permanent refusal (554 ...), "Z..."
 * a temporary one (451 ...).  hi-q uses 82 with a text that says which
 * filter refused the message when it has a reply pipe on fd 6, and
 * otherwise qmail-queue's plain codes: 31 permanent, 71 temporary.  The
 * log line (one per message, on stderr) gives every stage's verdict and
 * time, then the result. */
#include "hiq.h"

#include "msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The line is built here, then written by the one writer, which escapes
 * it and clips it at its own bound. */
#define LINE_BYTES 4096

struct outcome {
	int code;               /* without a reply pipe */
	char kind;              /* 'D' or 'Z': with one, 82 and this text */
	char text[256];
};

/* The text is the filter's own reply when it has one (never a format:
 * it may hold a %), else fmt with the filter's name. */
static void refuse(struct outcome *o, int code, char kind, const char *reply,
    const char *fmt, const char *name)
{
	o->code = code;
	o->kind = kind;
	if (reply)
		snprintf(o->text, sizeof o->text, "%s", reply);
	else
		snprintf(o->text, sizeof o->text, fmt, name);
}

static void filter_outcome(const struct stage *f, struct outcome *o)
{
	switch (f->verdict) {
	case V_REJECT:
		refuse(o, HIQ_REJECT, 'D', f->reply, "message refused by "
		    "filter %s (#5.7.1)", f->name);
		break;
	case V_DEFER:
		refuse(o, HIQ_DEFER, 'Z', f->reply, "message deferred by "
		    "filter %s (#4.7.1)", f->name);
		break;
	default:
		/* A crash, a timeout, a code it does not map, or it could
		 * not start: the sender tries again later. */
		refuse(o, HIQ_DEFER, 'Z', NULL, "temporary failure in mail filter "
		    "%s (#4.3.0)", f->name);
	}
}

/* The queue's exit, passed on as the queue gave it (82 with its text);
 * a crash is an internal error, as qmail-smtpd reads a crashed queue. */
static void queue_outcome(const struct hiq *h, struct outcome *o)
{
	const struct stage *q = &h->queue;

	o->kind = 0;
	if (q->verdict == V_CRASH || q->verdict == V_KILLED)
		o->code = HIQ_INTERNAL;
	else if (q->code == 0 && !h->envelope_given)
		o->code = HIQ_INTERNAL;     /* "queued" without an envelope */
	else
		o->code = q->code;
}

static void decide(const struct hiq *h, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	switch (h->cause) {
	case CAUSE_FILTER:
		filter_outcome(&h->filter[h->cause_filter], o);
		break;
	case CAUSE_TIMEOUT:
		refuse(o, HIQ_TIMEOUT, 'Z', "timeout in the mail filters "
		    "(#4.3.0)", NULL, NULL);
		break;
	case CAUSE_SIGNAL:
		refuse(o, HIQ_DEFER, 'Z', "mail filters stopped, try "
		    "again later (#4.3.0)", NULL, NULL);
		break;
	case CAUSE_ERROR:
		o->code = HIQ_INTERNAL;
		break;
	case CAUSE_QUEUE:
	case CAUSE_NONE:
		queue_outcome(h, o);
		break;
	}
}

/* Writes "D..." or "Z..." to the caller's reply pipe; 0 if it all went. */
static int write_reply(int fd, const char *text, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- the log line ---- */

struct line {
	char s[LINE_BYTES];
	size_t n;
};

static void add(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->n >= sizeof l->s - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(l->s + l->n, sizeof l->s - l->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->n += (size_t)k < sizeof l->s - l->n ? (size_t)k :
		    sizeof l->s - 1 - l->n;
}

static void add_stage(struct line *l, const struct stage *s, int is_queue)
{
	long long ms = s->end_ms - s->start_ms;

	add(l, "%s ", s->name);
	if (is_queue && (s->verdict == V_PASS || s->verdict == V_OTHER)) {
		add(l, "exit %d %lld ms", s->code, ms);
		return;
	}
	switch (s->verdict) {
	case V_NONE: add(l, "not run"); return;
	case V_RUNNING: add(l, "running"); return;
	case V_PASS: add(l, "pass (exit %d)", s->code); break;
	case V_REJECT: add(l, "reject (exit %d)", s->code); break;
	case V_DEFER: add(l, "defer (exit %d)", s->code); break;
	case V_OTHER: add(l, "failed (exit %d)", s->code); break;
	case V_CRASH: add(l, "crashed (signal %d)", s->code); break;
	case V_TIMEOUT: add(l, "timeout"); break;
	case V_KILLED: add(l, "killed"); break;
	case V_SKIPPED: add(l, "skipped (%s)", s->why); return;
	case V_NOSTART: add(l, "failed (%s)", s->why); return;
	}
	add(l, " %lld ms", ms);
}

static void log_line(const struct hiq *h, int code, const char *text)
{
	struct line l = { .n = 0 };
	size_t i;

	l.s[0] = '\0';
	add(&l, "qp %ld", (long)getpid());
	if (h->size >= 0)
		add(&l, " size %lld", h->size);
	add(&l, ":");
	for (i = 0; i < h->nfilters; i++) {
		add(&l, " ");
		add_stage(&l, &h->filter[i], 0);
		add(&l, ",");
	}
	add(&l, " ");
	add_stage(&l, &h->queue, 1);
	add(&l, ": exit %d", code);
	if (h->cause == CAUSE_TIMEOUT)
		add(&l, ", timeout after %ld ms", h->timeout_ms);
	if (h->cause == CAUSE_SIGNAL)
		add(&l, ", stopped by signal %d", h->signal);
	if (h->cause == CAUSE_ERROR && h->error[0])
		add(&l, ", %s", h->error);
	/* The reply as the sender gets it; without a reply pipe, what it
	 * would have been. */
	if (*text && code == HIQ_TEXT)
		add(&l, " %s", text);
	else if (*text)
		add(&l, " (%s)", text + 1);
	msg_line(2, NULL, NULL, "%s", l.s);
}

int hiq_report(const struct hiq *h, int reply_fd)
{
	struct outcome o;
	char text[sizeof o.text + 1];
	int code;

	decide(h, &o);
	code = o.code;
	text[0] = '\0';
	if (o.kind) {
		snprintf(text, sizeof text, "%c%s", o.kind, o.text);
		if (reply_fd >= 0 && write_reply(reply_fd, text,
		    strlen(text)) == 0)
			code = HIQ_TEXT;
	} else if (code == HIQ_TEXT && h->queue_text_len > 0) {
		/* The queue's own reply, passed on as it gave it; it was
		 * read with its length, so it is escaped for the log. */
		msg_escape(text, sizeof text, h->queue_text,
		    h->queue_text_len);
		if (reply_fd < 0 || write_reply(reply_fd, h->queue_text,
		    h->queue_text_len) < 0)
			code = HIQ_DEFER;
	}
	log_line(h, code, text);
	return code;
}
