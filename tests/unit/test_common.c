/*
 * test_common.c - server/common: the one place for random ids, token
 * hashes, array growth and the clocks, which the core and the registry
 * both use (each once had its own copy; the core's ignored a failed
 * digest).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "check.h"
#include "clock.h"
#include "secret.h"

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i]) || !s[i])
            return false;
    return s[n] == '\0';
}

static void test_secret(void)
{
    char out[SECRET_SHA256_HEX + 1], a[17], b[17], big[2 * SECRET_RANDOM_MAX + 1];

    /* FIPS 180-2's test vectors. */
    CHECK(secret_sha256_hex("abc", out) == 0);
    CHECK(strcmp(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    CHECK(secret_sha256_hex("", out) == 0);
    CHECK(strcmp(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    /* A TURN password as coturn's use-auth-secret computes it (RFC 2104
     * HMAC-SHA1, base64), checked against Python's hmac module. */
    {
        char pw[SECRET_TURN_B64 + 1];
        CHECK(secret_turn_password("north", "1700000000:u-1a2b", pw) == 0);
        CHECK(strcmp(pw, "iTAebfYyO5F7l5BYJRczW1BrsWc=") == 0);
    }

    CHECK(secret_random_hex(a, sizeof(a), 8) == 0 && all_hex(a, 16));
    CHECK(secret_random_hex(b, sizeof(b), 8) == 0 && all_hex(b, 16));
    CHECK(strcmp(a, b) != 0); /* 64 random bits twice alike: never */
    CHECK(secret_random_hex(big, sizeof(big), SECRET_RANDOM_MAX) == 0 &&
          all_hex(big, 2 * SECRET_RANDOM_MAX));
    CHECK(secret_random_hex(a, 3, 1) == 0 && all_hex(a, 2)); /* exactly enough room */
}

static void test_array(void)
{
    int *arr = NULL;
    size_t cap = 0;
    CHECK(array_grow((void **)&arr, &cap, 0, sizeof(*arr)) == 0 && cap == 0 && !arr);
    CHECK(array_grow((void **)&arr, &cap, 1, sizeof(*arr)) == 0 && cap == 16 && arr);
    arr[15] = 7;
    CHECK(array_grow((void **)&arr, &cap, 16, sizeof(*arr)) == 0 && cap == 16);
    CHECK(array_grow((void **)&arr, &cap, 17, sizeof(*arr)) == 0 && cap == 32 && arr[15] == 7);
    CHECK(array_grow((void **)&arr, &cap, 1000, sizeof(*arr)) == 0 && cap == 1024);
    /* A size that would overflow is refused and leaves the array alone. */
    CHECK(array_grow((void **)&arr, &cap, SIZE_MAX / 2, sizeof(*arr)) == -1 && cap == 1024 &&
          arr[15] == 7);
    free(arr);
}

static void test_clock(void)
{
    long long m1 = clock_mono_ms(), w = clock_wall_ms(), m2 = clock_mono_ms();
    double s = clock_mono_seconds();
    CHECK(m1 > 0 && m2 >= m1);
    CHECK(w > 1700000000000LL); /* after 2023: a wall clock in ms, not seconds */
    CHECK(s * 1000 >= (double)m1 - 1);
}

int main(void)
{
    test_secret();
    test_array();
    test_clock();
    return check_report();
}
