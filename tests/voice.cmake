# server/voice: the Janus client. A unit test of the parsing of Janus'
# replies (no network), and an integration test against a real Janus
# (skipped, saying so, when the janus binary is not installed).
if(NOT TARGET venue_voice)
    return()
endif()
add_executable(test_janus unit/test_janus.c)
target_link_libraries(test_janus PRIVATE venue_voice check venue_flags)
add_test(NAME voice.janus COMMAND test_janus)
set_tests_properties(voice.janus PROPERTIES TIMEOUT 30)

find_program(VENUE_VOICE_NODE node)
if(TARGET venued AND VENUE_VOICE_NODE)
    add_test(NAME integration.voice-janus
             COMMAND ${VENUE_VOICE_NODE} --test ${PROJECT_SOURCE_DIR}/tests/integration/voice-janus.test.mjs
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(integration.voice-janus PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
        TIMEOUT 180
        RUN_SERIAL TRUE
        SKIP_REGULAR_EXPRESSION "SKIP: janus"
        LABELS integration)
endif()
