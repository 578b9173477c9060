# Integration tests: Node's test runner drives the real venued over
# WebSocket and HTTP (tests/integration/*.test.mjs, one CTest test each).
# They need node and the ws package from the repo root's node_modules
# (./venue test installs both).

if(NOT TARGET venued)
    message(STATUS "no venued target yet: integration tests not registered")
    return()
endif()

find_program(VENUE_NODE node)
if(NOT VENUE_NODE)
    message(WARNING "node not found: integration tests not registered")
    return()
endif()

# file -> CTest timeout in seconds (a generous bound over the run time
# under ASan; each test's own waits are bounded much tighter).
set(VENUE_ITEST_FILES
    http.test.mjs 60
    session.test.mjs 60
    poses.test.mjs 60
    resume.test.mjs 60
    errors.test.mjs 60
    ratelimit.test.mjs 90
    capacity.test.mjs 60
    slow.test.mjs 90
    idle.test.mjs 60
    shutdown.test.mjs 60
    scenes.test.mjs 120
    moderation.test.mjs 120
    twins.test.mjs 90
    demo-feed.test.mjs 90
    joinlinks.test.mjs 60
    find.test.mjs 60
    framing.test.mjs 60
    churn.test.mjs 90
    abuse.test.mjs 90
    disk.test.mjs 60
    import.test.mjs 180
    writelock.test.mjs 60
    interest.test.mjs 90
    deploy.test.mjs 120
    cluster.test.mjs 180
)

list(LENGTH VENUE_ITEST_FILES n)
math(EXPR last "${n} - 1")
foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET VENUE_ITEST_FILES ${i} file)
    list(GET VENUE_ITEST_FILES ${j} timeout)
    string(REGEX REPLACE "\\.test\\.mjs$" "" name "${file}")
    add_test(NAME integration.${name}
             COMMAND ${VENUE_NODE} --test ${PROJECT_SOURCE_DIR}/tests/integration/${file}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(integration.${name} PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR};VENUE_BUILD=${PROJECT_BINARY_DIR}"
        TIMEOUT ${timeout}
        LABELS integration)
endforeach()

# These measure rates and timeouts (poses per second, a 3 s flood, a
# stalled reader): on 2 cores beside another heavy test they measure the
# machine, so each runs alone.
set_tests_properties(integration.poses integration.ratelimit integration.slow integration.churn
    integration.interest PROPERTIES
    RUN_SERIAL TRUE)
# Deadlines to the second and the server's CPU under 1,100 held sockets.
set_tests_properties(integration.abuse PROPERTIES RUN_SERIAL TRUE)

# The same server on libev (--event-loop libev, the default being lws's
# own poll() loop): serving poses, and the graceful SIGTERM.
foreach(name poses shutdown)
    add_test(NAME integration.${name}-libev
             COMMAND ${VENUE_NODE} --test ${PROJECT_SOURCE_DIR}/tests/integration/${name}.test.mjs
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(integration.${name}-libev PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR};VENUE_EVENT_LOOP=libev"
        TIMEOUT 60
        LABELS integration)
endforeach()
set_tests_properties(integration.poses-libev PROPERTIES RUN_SERIAL TRUE)
