# Client tests (issue 8): the web client's DOM-free modules in Node, no
# browser (tests/client/*.test.mjs, one CTest test each, labelled client):
# venue-client.js against the real venued (its programme and stage state
# against a scripted server in the test, its voice state fed by hand),
# motion.js on its own, voice.js against a scripted janus.js and WebAudio,
# voicespace.js on its own, and limits.js and the page's maxlengths
# against protocol/proto.h. They need node and the ws package from the
# repo root's node_modules.

if(NOT TARGET venued)
    message(STATUS "no venued target yet: client tests not registered")
    return()
endif()

find_program(VENUE_NODE_CLIENT node)
if(NOT VENUE_NODE_CLIENT)
    message(WARNING "node not found: client tests not registered")
    return()
endif()

# file -> CTest timeout in seconds (a generous bound over the run time
# under ASan).
set(VENUE_CLIENT_TEST_FILES
    client-module.test.mjs 120
    motion.test.mjs 30
    limits.test.mjs 30
    programme.test.mjs 30
    voice-client.test.mjs 30
    voicespace.test.mjs 30
    voice-media.test.mjs 30
    tiers.test.mjs 60
    busy.test.mjs 30
)

list(LENGTH VENUE_CLIENT_TEST_FILES n)
math(EXPR last "${n} - 1")
foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET VENUE_CLIENT_TEST_FILES ${i} file)
    list(GET VENUE_CLIENT_TEST_FILES ${j} timeout)
    string(REGEX REPLACE "\\.test\\.mjs$" "" name "${file}")
    add_test(NAME client.${name}
             COMMAND ${VENUE_NODE_CLIENT} --test ${PROJECT_SOURCE_DIR}/tests/client/${file}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(client.${name} PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
        TIMEOUT ${timeout}
        LABELS client)
endforeach()
