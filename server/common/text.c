/* text.c - see text.h. */
#include "text.h"

#include <assert.h>

void text_printable(char *dst, size_t size, const char *src)
{
    size_t n = 0;
    assert(size > 0);
    for (; src && *src && n + 1 < size; src++) {
        unsigned char c = (unsigned char)*src;
        dst[n++] = (c < ' ' || c > '~' || c == '"' || c == '\\') ? '?' : (char)c;
    }
    dst[n] = '\0';
}
