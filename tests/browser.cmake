# Browser tests (issue 4): the web client in Debian's Chromium, driven by
# playwright-core from npm, against the real venued. One node:test process
# per file, one file at a time (each starts its own venued and browser).
# It runs alone (RUN_SERIAL): Chromium's software GL takes both cores, and
# beside it the rate-measuring integration tests measure the machine.
#
# The crowd's frame-rate floor (tests/browser/crowd-fps.test.mjs) measures
# the machine as much as the code: it is its own test, labelled perf, run
# alone and only when asked for (`ctest -L perf`); `./venue test` leaves it
# out with -LE perf. It is not one of the browser.* tests below.
find_program(VENUE_NODE_BROWSER node)
if(VENUE_NODE_BROWSER)
    # One CTest test per file, so that a failure names its part and each
    # has its own time budget.
    file(GLOB VENUE_BROWSER_TESTS ${PROJECT_SOURCE_DIR}/tests/browser/*.test.mjs)
    foreach(t ${VENUE_BROWSER_TESTS})
        get_filename_component(name ${t} NAME_WE)
        # voice-*: in a network namespace of their own, from tests/voice.cmake
        if(name STREQUAL "crowd-fps" OR name MATCHES "^voice-")
            continue()
        endif()
        add_test(NAME browser.${name} COMMAND ${VENUE_NODE_BROWSER} --test ${t})
        set_tests_properties(browser.${name} PROPERTIES
            ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
            TIMEOUT 300
            RUN_SERIAL TRUE
            LABELS browser)
    endforeach()
    add_test(NAME browser.crowd-fps
             COMMAND ${VENUE_NODE_BROWSER} --test ${PROJECT_SOURCE_DIR}/tests/browser/crowd-fps.test.mjs)
    set_tests_properties(browser.crowd-fps PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR};VENUE_PERF=1"
        TIMEOUT 180
        RUN_SERIAL TRUE
        LABELS perf)
endif()
