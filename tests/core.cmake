# The venue core, driven without a network.
add_executable(test_core unit/test_core.c)
target_link_libraries(test_core PRIVATE venue_core venue_flags)
add_test(NAME core COMMAND test_core ${PROJECT_SOURCE_DIR}/scenes/demo)
