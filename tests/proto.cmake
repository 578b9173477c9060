# Protocol tests (protocol/proto.c): the unit test, one CTest test per
# data-driven case in tests/proto-cases/, and the fuzz target replaying its
# corpus. Every test name starts with "proto" (ctest -R proto).
set(PROTO_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})

add_executable(test_proto ${PROTO_TESTS_DIR}/unit/test_proto.c)
target_link_libraries(test_proto PRIVATE venue_proto venue_flags m)
add_test(NAME proto.unit COMMAND test_proto)

add_executable(test_poses_bin ${PROTO_TESTS_DIR}/unit/test_poses_bin.c
               ${PROTO_TESTS_DIR}/unit/check.c)
target_link_libraries(test_poses_bin PRIVATE venue_proto venue_flags m)
add_test(NAME proto.poses_bin COMMAND test_poses_bin)

# Data-driven cases: good/NAME.json must parse; bad/NAME.json must be
# refused with the code and message substring in bad/NAME.expected
# ("code|substring", first line). Re-run cmake when cases change.
add_executable(proto_case ${PROTO_TESTS_DIR}/unit/proto_case.c)
target_link_libraries(proto_case PRIVATE venue_proto venue_flags)

file(GLOB PROTO_GOOD_CASES CONFIGURE_DEPENDS ${PROTO_TESTS_DIR}/proto-cases/good/*.json)
foreach(case ${PROTO_GOOD_CASES})
    get_filename_component(name ${case} NAME_WE)
    add_test(NAME proto.case.good.${name} COMMAND proto_case ${case} ok)
endforeach()

file(GLOB PROTO_BAD_CASES CONFIGURE_DEPENDS ${PROTO_TESTS_DIR}/proto-cases/bad/*.json)
foreach(case ${PROTO_BAD_CASES})
    get_filename_component(dir ${case} DIRECTORY)
    get_filename_component(name ${case} NAME_WE)
    set(expected_file ${dir}/${name}.expected)
    if(NOT EXISTS ${expected_file})
        message(FATAL_ERROR "proto case ${case} has no ${name}.expected")
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${expected_file})
    file(STRINGS ${expected_file} expected LIMIT_COUNT 1)
    add_test(NAME proto.case.bad.${name} COMMAND proto_case ${case} "${expected}")
endforeach()

# The fuzz target. Under gcc it is linked with a main that replays every
# case file and the fuzz corpus; tests/fuzz/README.md shows the clang
# -fsanitize=fuzzer build.
add_executable(proto_fuzz_replay ${PROTO_TESTS_DIR}/fuzz/fuzz_proto.c
                                 ${PROTO_TESTS_DIR}/fuzz/replay_main.c)
target_link_libraries(proto_fuzz_replay PRIVATE venue_proto venue_flags PkgConfig::JANSSON m)
add_test(NAME proto.fuzz_replay
         COMMAND proto_fuzz_replay ${PROTO_TESTS_DIR}/proto-cases/good
                 ${PROTO_TESTS_DIR}/proto-cases/bad ${PROTO_TESTS_DIR}/fuzz/corpus)

# The same unit test with fault injection: proto.c is compiled into it with
# a realloc that fails on demand, to check that failed encodings leave the
# buffer as it was. It does not link venue_proto (it has its own copy).
add_executable(test_proto_oom ${PROTO_TESTS_DIR}/unit/test_proto.c)
target_compile_definitions(test_proto_oom PRIVATE PROTO_TEST_OOM)
target_include_directories(test_proto_oom PRIVATE ${PROTO_TESTS_DIR}/../protocol)
target_link_libraries(test_proto_oom PRIVATE PkgConfig::JANSSON venue_flags m)
add_test(NAME proto.unit_oom COMMAND test_proto_oom)
