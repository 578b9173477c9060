# The server's layers, checked on the sources: nothing below net/ includes
# libwebsockets or the transport's server.h, no folder includes a header of
# a folder above it (common <- store <- core <- admin <- net <- app), and
# no layer's CMakeLists.txt links a library above it. See tests/layers.sh.
find_program(VENUE_SH sh)
if(NOT VENUE_SH)
    message(WARNING "sh not found: the layers test is not registered")
    return()
endif()
add_test(NAME layers COMMAND ${VENUE_SH} ${CMAKE_CURRENT_SOURCE_DIR}/layers.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(layers PROPERTIES LABELS lint TIMEOUT 60)
