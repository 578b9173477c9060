# The chat log on its own, on both engines: the bound per room, roles,
# deletes, the last id, retention, batches, a read-only database, reopen.
add_executable(test_chatlog unit/test_chatlog.c)
target_link_libraries(test_chatlog PRIVATE venue_store check_store venue_flags)
venue_store_test(chatlog.store test_chatlog)
