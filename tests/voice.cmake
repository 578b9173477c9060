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
# Against a real Janus (skipped, saying so, without janus): voice-janus, the
# client and the rooms; voice-proxy, /voice from browsers to Janus' API
# (with a fake Janus as well).
if(TARGET venued AND VENUE_VOICE_NODE)
    foreach(name voice-janus voice-proxy)
        add_test(NAME integration.${name}
                 COMMAND ${VENUE_VOICE_NODE} --test ${PROJECT_SOURCE_DIR}/tests/integration/${name}.test.mjs
                 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
        set_tests_properties(integration.${name} PROPERTIES
            ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
            TIMEOUT 180
            RUN_SERIAL TRUE
            SKIP_REGULAR_EXPRESSION "SKIP: janus"
            LABELS integration)
    endforeach()
endif()

# The voice browser tests (tests/browser/voice-*.test.mjs): the real
# `./venue run` and Chromium inside a network namespace each test makes
# (tests/voice/netns.mjs), where the only address besides lo is a TUN
# device that tunhold holds up: Janus offers no loopback ICE candidate.
# Where no namespace can be made (no unshare or /dev/net/tun, not root),
# or janus or Chromium is missing, a test says why and CTest counts it
# skipped. `./venue run` builds build/ on the way (a minute or so the first
# time). Alone (RUN_SERIAL): Chromium and the build take both cores.
add_executable(tunhold voice/tunhold.c)
target_link_libraries(tunhold PRIVATE venue_flags)
if(VENUE_VOICE_NODE)
    file(GLOB VENUE_VOICE_BROWSER_TESTS ${PROJECT_SOURCE_DIR}/tests/browser/voice-*.test.mjs)
    foreach(t ${VENUE_VOICE_BROWSER_TESTS})
        get_filename_component(name ${t} NAME_WE)
        add_test(NAME browser.${name} COMMAND ${VENUE_VOICE_NODE} --test ${t}
                 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
        set_tests_properties(browser.${name} PROPERTIES
            ENVIRONMENT "VENUE_ROOT=${PROJECT_SOURCE_DIR};VENUE_TUNHOLD=$<TARGET_FILE:tunhold>"
            TIMEOUT 300
            RUN_SERIAL TRUE
            SKIP_REGULAR_EXPRESSION "# skipped [1-9]"
            LABELS "browser;voice")
    endforeach()
endif()
