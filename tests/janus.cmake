# The Janus that venued configures (issue 11): a real Janus from Debian,
# started from server/voice/janus-config.sh's output on ports of its own.
# Without the janus binary its tests say why and CTest counts them skipped.
find_program(VENUE_NODE_JANUS node)
if(VENUE_NODE_JANUS)
    add_test(NAME voice.janus-config
             COMMAND ${VENUE_NODE_JANUS} --test ${PROJECT_SOURCE_DIR}/tests/integration/janus-config.test.mjs
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(voice.janus-config PROPERTIES
        ENVIRONMENT "VENUE_ROOT=${PROJECT_SOURCE_DIR}"
        TIMEOUT 60
        SKIP_REGULAR_EXPRESSION "# skipped [1-9]"
        LABELS integration)
endif()
