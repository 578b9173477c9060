# The server enforcing and serving scenes, over real HTTP and WebSocket.
if(TARGET venued)
    find_program(VENUE_NODE_SCENES node)
    if(VENUE_NODE_SCENES)
        add_test(NAME integration.scenes
                 COMMAND ${VENUE_NODE_SCENES} --test ${PROJECT_SOURCE_DIR}/tests/integration/scenes.test.mjs
                 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
        set_tests_properties(integration.scenes PROPERTIES
            ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
            TIMEOUT 120 LABELS integration)
    endif()
endif()
