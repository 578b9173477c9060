# The venue core's fuzz target (tests/fuzz/fuzz_venue.c): scripts of client
# messages, moderation included, through venue_message on a venue with
# sessions of every role. Under gcc it is linked with the main that replays
# stored inputs; tests/fuzz/README.md shows the clang -fsanitize=fuzzer
# build. Every test name starts with "fuzz" and has the label fuzz
# (ctest -R fuzz, ctest -L fuzz).
set(FUZZ_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})

add_executable(venue_fuzz_replay ${FUZZ_TESTS_DIR}/fuzz/fuzz_venue.c
                                 ${FUZZ_TESTS_DIR}/fuzz/replay_main.c)
target_link_libraries(venue_fuzz_replay
    PRIVATE venue_core PkgConfig::JANSSON PkgConfig::SQLITE3 venue_flags m)

# The corpus: the seeds, what fuzzing kept (found-*), and the inputs that
# showed a bug (bug-*). Each bug-* file is a test of its own, so that a
# regression names itself, and an input added for a bug not fixed yet fails
# alone: the replay of the rest stops at the first input that aborts.
file(GLOB VENUE_FUZZ_INPUTS CONFIGURE_DEPENDS ${FUZZ_TESTS_DIR}/fuzz/venue-corpus/*)
set(VENUE_FUZZ_SEEDS)
foreach(input ${VENUE_FUZZ_INPUTS})
    get_filename_component(name ${input} NAME)
    if(name MATCHES "^bug-")
        add_test(NAME fuzz.venue_bug.${name} COMMAND venue_fuzz_replay ${input})
        set_tests_properties(fuzz.venue_bug.${name} PROPERTIES
            LABELS fuzz TIMEOUT 30 ENVIRONMENT "VENUE_ROOT=${PROJECT_SOURCE_DIR}")
    else()
        list(APPEND VENUE_FUZZ_SEEDS ${input})
    endif()
endforeach()

# Then the parser's cases: as a script, a file of one JSON message is that
# message from the admin's slot (and an .expected file is a comment),
# harmless and cheap. The whole replay takes about a second under ASan.
add_test(NAME fuzz.venue_replay
         COMMAND venue_fuzz_replay ${VENUE_FUZZ_SEEDS}
                 ${FUZZ_TESTS_DIR}/proto-cases/good ${FUZZ_TESTS_DIR}/proto-cases/bad)
set_tests_properties(fuzz.venue_replay PROPERTIES
    LABELS fuzz
    TIMEOUT 60
    ENVIRONMENT "VENUE_ROOT=${PROJECT_SOURCE_DIR}")
