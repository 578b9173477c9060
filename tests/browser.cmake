# Browser tests (issue 4): the web client in Debian's Chromium, driven by
# playwright-core from npm, against the real venued. One node:test process
# per file, one file at a time (each starts its own venued and browser).
# It runs alone (RUN_SERIAL): Chromium's software GL takes both cores, and
# beside it the rate-measuring integration tests measure the machine.
#
# The crowd's frame-rate floor (tests/browser/crowd-fps.test.mjs) measures
# the machine as much as the code: it is its own test, labelled perf, run
# alone and only when asked for (`ctest -L perf`); `./venue test` leaves it
# out with -LE perf. In the browser test it is skipped.
find_program(VENUE_NODE_BROWSER node)
if(VENUE_NODE_BROWSER)
    add_test(NAME browser
             COMMAND ${VENUE_NODE_BROWSER} --test --test-concurrency=1 ${PROJECT_SOURCE_DIR}/tests/browser/)
    set_tests_properties(browser PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
        TIMEOUT 420
        RUN_SERIAL TRUE
        LABELS browser)
    add_test(NAME browser.crowd-fps
             COMMAND ${VENUE_NODE_BROWSER} --test ${PROJECT_SOURCE_DIR}/tests/browser/crowd-fps.test.mjs)
    set_tests_properties(browser.crowd-fps PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR};VENUE_PERF=1"
        TIMEOUT 180
        RUN_SERIAL TRUE
        LABELS perf)
endif()
