# The programme: programme files parsed (every kind of bad input, exact
# messages) and the programme's tables in the store (replace, stars,
# questions and votes, retention, reopen), against a real SQLite file
# and a PostgreSQL database (programme.store.pg).
add_executable(test_programme unit/test_programme.c)
target_link_libraries(test_programme PRIVATE venue_store check_store venue_flags)
venue_store_test(programme.store test_programme)
