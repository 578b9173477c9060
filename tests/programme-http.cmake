# The programme over HTTP and the command line (issue 10): the admin
# layer's answers and the slide files without a socket (a unit test), and
# Node's test runner against the real venued for the routes, slide uploads
# and `venued programme import|list|demo` (tests/integration/programme.test.mjs).

# options.c belongs to the venued executable: compiled in, as test_options does.
add_executable(test_programme_api unit/test_programme_api.c
    ${PROJECT_SOURCE_DIR}/server/app/options.c)
target_include_directories(test_programme_api PRIVATE ${PROJECT_SOURCE_DIR}/server/app)
target_link_libraries(test_programme_api PRIVATE venue_admin core_harness check_store venue_flags
    PkgConfig::JANSSON m)
venue_store_test(programme.api test_programme_api ${PROJECT_SOURCE_DIR}/scenes/demo)

if(NOT TARGET venued)
    return()
endif()
find_program(VENUE_PROGRAMME_NODE node)
if(NOT VENUE_PROGRAMME_NODE)
    message(WARNING "node not found: the programme's HTTP tests are not registered")
    return()
endif()
add_test(NAME programme.http
         COMMAND ${VENUE_PROGRAMME_NODE} --test ${PROJECT_SOURCE_DIR}/tests/integration/programme.test.mjs
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(programme.http PROPERTIES
    ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
    TIMEOUT 180
    LABELS integration)

# Slide decks counted off the service loop (a compression bomb while
# another client chats; uploaders hanging up mid-count): it measures
# round trips, so it runs alone.
add_test(NAME programme.slides_loop
         COMMAND ${VENUE_PROGRAMME_NODE} --test ${PROJECT_SOURCE_DIR}/tests/integration/slides-loop.test.mjs
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(programme.slides_loop PROPERTIES
    ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
    TIMEOUT 120
    RUN_SERIAL TRUE
    LABELS integration)
