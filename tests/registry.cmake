# The registry (users, tokens, sanctions, room settings, audit, retention)
# and the CSV import, on SQLite in a temporary folder and on PostgreSQL.
add_executable(test_registry unit/test_registry.c)
target_link_libraries(test_registry PRIVATE venue_core check_store venue_flags)
venue_store_test(registry test_registry)

# The twin store, on both engines: latest values, bounded history,
# batches, reopen.
add_executable(test_twins unit/test_twins.c)
target_link_libraries(test_twins PRIVATE venue_store check_store venue_flags)
venue_store_test(twins.store test_twins)
