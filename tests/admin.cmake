# Registration and the admin API: `venued user ...` and /api/admin/*,
# driven by Node's test runner against the real venued (tests/admin/,
# one CTest test per file). They need node and the ws package, like the
# integration tests whose harness they share.

if(NOT TARGET venued)
    return()
endif()
find_program(VENUE_NODE node)
if(NOT VENUE_NODE)
    message(WARNING "node not found: admin tests not registered")
    return()
endif()

foreach(name cli api)
    add_test(NAME admin.${name}
             COMMAND ${VENUE_NODE} --test ${PROJECT_SOURCE_DIR}/tests/admin/${name}.test.mjs
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(admin.${name} PROPERTIES
        ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
        TIMEOUT 120
        LABELS admin)
endforeach()
