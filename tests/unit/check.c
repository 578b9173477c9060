/*
 * check.c - see check.h.
 */
#include "check.h"

int passed, failed;

int check_report(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
