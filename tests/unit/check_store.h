/*
 * check_store.h - the store a unit test opens: SQLite in the test's
 * folder, or, when VENUE_TEST_PG names the folder of a running tests/pg.sh
 * server, a PostgreSQL database of the test's own. The same tests then
 * run on both engines (CTest registers each twice).
 */
#ifndef VENUE_CHECK_STORE_H
#define VENUE_CHECK_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/* Is this run on PostgreSQL? */
bool check_store_pg(void);

/*
 * Where the store for dir is: dir itself on SQLite; on PostgreSQL the URL
 * of a database named after dir's last part, created empty the first time
 * this process asks for dir (later calls reopen the same one). A static
 * buffer; NULL (with a line on stderr) when the server cannot be reached.
 */
const char *check_store_where(const char *dir);

/* store_open(check_store_where(dir), ...). */
struct store *check_store_open(const char *dir, char *err, size_t errlen);

/* The one integer sql returns on st's database, or -1: for tests' counts. */
long long check_store_int(struct store *st, const char *sql);

#endif
