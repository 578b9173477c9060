# Integration tests of the scene rules and of moderation, over real HTTP and
# WebSocket against the real venued (the harness is tests/integration/'s).
if(NOT TARGET venued)
    return()
endif()
find_program(VENUE_NODE_MORE node)
if(NOT VENUE_NODE_MORE)
    return()
endif()
foreach(name scenes moderation)
    add_test(NAME integration.${name}
             COMMAND ${VENUE_NODE_MORE} --test ${PROJECT_SOURCE_DIR}/tests/integration/${name}.test.mjs
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(integration.${name} PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
        TIMEOUT 120 LABELS integration)
endforeach()
