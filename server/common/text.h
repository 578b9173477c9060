/*
 * text.h - text from elsewhere (a peer's error, a library's message) made
 * safe to print as it is inside JSON and log lines.
 */
#ifndef VENUE_TEXT_H
#define VENUE_TEXT_H

#include <stddef.h>

/* Copy src into dst (size bytes, size > 0), cut to fit, every byte outside
 * printable ASCII and every quote or backslash as '?'. NULL src: "". */
void text_printable(char *dst, size_t size, const char *src);

#endif
