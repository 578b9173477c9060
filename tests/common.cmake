# server/common: secrets, arrays and clocks on their own.
add_executable(test_common unit/test_common.c)
target_link_libraries(test_common PRIVATE venue_common check venue_flags)
add_test(NAME common COMMAND test_common)
