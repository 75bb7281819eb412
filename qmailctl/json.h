/* json.h: a JSON string for --json output, the one JSON escaper. */
#ifndef QMAILCTL_JSON_H
#define QMAILCTL_JSON_H

#include <stdio.h>

/* Writes s to f as a JSON string: quoted, '"' and '\\' escaped, control
 * bytes as \u00XX.  Other bytes pass as they are (JSON is UTF-8). */
void json_string(FILE *f, const char *s);

#endif
