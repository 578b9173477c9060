# Load benchmark (tests/bench/, BENCHMARKS.md). The benchmark itself is run
# by hand on a Release build; CTest only runs a smoke of the tool: 20
# walking clients for 3 s, checking that everyone joins, every receiver
# gets poses at about the tick rate, probes see each other's poses, and the
# server drops nothing. About 8 s. `ctest -L bench` runs just this. It
# runs alone (RUN_SERIAL): beside the browser test on 2 cores the server
# misses ticks and the check fails for the machine, not the code.
if(NOT TARGET venued)
    return()
endif()

# The C load generator (BENCHMARKS.md, "The C load generator"): one thread,
# its own epoll WebSocket client, thousands of connections. Its smoke:
# 40 clients for 3 s; everyone joins, probes see poses, latency is finite.
# It reads protocol/poses_bin.c for --poses binary.
add_executable(venue-loadgen bench/loadgen.c)
target_link_libraries(venue-loadgen PRIVATE venue_proto PkgConfig::JANSSON PkgConfig::LIBCRYPTO venue_flags m)
add_test(NAME bench.loadgen-smoke
         COMMAND venue-loadgen --bin $<TARGET_FILE:venued> --clients 40 --duration 3
                 --warmup 1 --probes 5 --check
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
# The same in binary poses, both ways: a stamp read back proves them.
add_test(NAME bench.loadgen-smoke-binary
         COMMAND venue-loadgen --bin $<TARGET_FILE:venued> --clients 40 --duration 3
                 --warmup 1 --probes 5 --poses binary --check
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
# A tiered room (the bench plaza, tiers from 500 people): the probes must
# get tiered frames and their near tier must be on time.
add_test(NAME bench.loadgen-smoke-tiers
         COMMAND venue-loadgen --bin $<TARGET_FILE:venued> --room plaza --clients 520 --idle 0.9
                 --duration 3 --warmup 1 --settle 1 --probes 5 --poses binary --check --expect-tiers
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(bench.loadgen-smoke bench.loadgen-smoke-binary bench.loadgen-smoke-tiers PROPERTIES
    TIMEOUT 60
    RUN_SERIAL TRUE
    LABELS bench)

find_program(VENUE_NODE node)
if(NOT VENUE_NODE)
    return()
endif()
add_test(NAME bench.smoke
         COMMAND ${VENUE_NODE} ${PROJECT_SOURCE_DIR}/tests/bench/load.mjs
                 --clients 20 --duration 3 --warmup 1 --check
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(bench.smoke PROPERTIES
    ENVIRONMENT "VENUED_BIN=$<TARGET_FILE:venued>;VENUE_ROOT=${PROJECT_SOURCE_DIR}"
    TIMEOUT 60
    RUN_SERIAL TRUE
    LABELS bench)

# The hot path without a network, for instruction counts under callgrind
# (BENCHMARKS.md, "The core alone"). Built, not run by CTest.
add_executable(core_drive bench/core_drive.c)
target_link_libraries(core_drive PRIVATE venue_core venue_flags m)

