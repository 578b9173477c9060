# Browser tests (issue 4): the web client in Debian's Chromium, driven by
# playwright-core from npm, against the real venued. One node:test process
# per file, one file at a time (each starts its own venued and browser).
find_program(VENUE_NODE node)
if(VENUE_NODE)
    add_test(NAME browser
             COMMAND ${VENUE_NODE} --test --test-concurrency=1 ${PROJECT_SOURCE_DIR}/tests/browser/)
    set_tests_properties(browser PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
        TIMEOUT 420
        LABELS browser)
endif()
