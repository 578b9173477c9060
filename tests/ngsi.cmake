# NGSI-LD notification tests (server/twin/ngsi.c): the unit test, one
# CTest test per data-driven case in tests/ngsi-cases/, and the fuzz
# target replaying the cases. Every test name starts with "ngsi" and has
# the label ngsi (ctest -L ngsi).
set(NGSI_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})
set(NGSI_TEST_NAMES)

add_executable(test_ngsi ${NGSI_TESTS_DIR}/unit/test_ngsi.c)
target_link_libraries(test_ngsi PRIVATE venue_twin check venue_flags)
add_test(NAME ngsi.unit COMMAND test_ngsi)
list(APPEND NGSI_TEST_NAMES ngsi.unit)

# Data-driven cases (tests/ngsi-cases/case.h: NAME.json is a body sent as
# application/json, NAME.http headers and a body): good/ ones must parse;
# bad/ ones must be refused with a message containing the first line of
# bad/NAME.expected. Re-run cmake when cases change.
add_executable(ngsi_case ${NGSI_TESTS_DIR}/unit/ngsi_case.c)
target_link_libraries(ngsi_case PRIVATE venue_twin venue_flags)

file(GLOB NGSI_GOOD_CASES CONFIGURE_DEPENDS ${NGSI_TESTS_DIR}/ngsi-cases/good/*.json
     ${NGSI_TESTS_DIR}/ngsi-cases/good/*.http)
foreach(case ${NGSI_GOOD_CASES})
    get_filename_component(name ${case} NAME_WE)
    add_test(NAME ngsi.case.good.${name} COMMAND ngsi_case ${case} ok)
    list(APPEND NGSI_TEST_NAMES ngsi.case.good.${name})
endforeach()

file(GLOB NGSI_BAD_CASES CONFIGURE_DEPENDS ${NGSI_TESTS_DIR}/ngsi-cases/bad/*.json
     ${NGSI_TESTS_DIR}/ngsi-cases/bad/*.http)
foreach(case ${NGSI_BAD_CASES})
    get_filename_component(dir ${case} DIRECTORY)
    get_filename_component(name ${case} NAME_WE)
    set(expected_file ${dir}/${name}.expected)
    if(NOT EXISTS ${expected_file})
        message(FATAL_ERROR "ngsi case ${case} has no ${name}.expected")
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${expected_file})
    file(STRINGS ${expected_file} expected LIMIT_COUNT 1)
    add_test(NAME ngsi.case.bad.${name} COMMAND ngsi_case ${case} "${expected}")
    list(APPEND NGSI_TEST_NAMES ngsi.case.bad.${name})
endforeach()

# The fuzz target. Under gcc it is linked with tests/fuzz/replay_main.c and
# replays every case file; the comment at the top of fuzz_ngsi.c shows the
# clang -fsanitize=fuzzer build and what the last run found.
add_executable(ngsi_fuzz_replay ${NGSI_TESTS_DIR}/fuzz/fuzz_ngsi.c
                                ${NGSI_TESTS_DIR}/fuzz/replay_main.c)
target_link_libraries(ngsi_fuzz_replay PRIVATE venue_twin venue_flags PkgConfig::JANSSON m)
add_test(NAME ngsi.fuzz_replay
         COMMAND ngsi_fuzz_replay ${NGSI_TESTS_DIR}/ngsi-cases/good
                 ${NGSI_TESTS_DIR}/ngsi-cases/bad)
list(APPEND NGSI_TEST_NAMES ngsi.fuzz_replay)

set_tests_properties(${NGSI_TEST_NAMES} PROPERTIES LABELS ngsi)
