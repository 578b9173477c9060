# CHECK and the closing line, shared by the unit tests.
add_library(check STATIC unit/check.c)
target_include_directories(check PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(check PRIVATE venue_flags)
# The store a test opens, on SQLite or PostgreSQL (VENUE_TEST_PG).
add_library(check_store STATIC unit/check_store.c)
target_link_libraries(check_store PUBLIC check venue_store PRIVATE venue_flags)

# The venue core, driven without a network.
add_library(core_harness STATIC unit/core_harness.c)
target_include_directories(core_harness PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(core_harness PUBLIC venue_core check_store PRIVATE venue_flags)

add_executable(test_core unit/test_core.c)
target_link_libraries(test_core PRIVATE core_harness venue_flags)
add_test(NAME core COMMAND test_core ${PROJECT_SOURCE_DIR}/scenes/demo)

# Registration, roles and moderation, with the real store and registry.
add_executable(test_moderation unit/test_moderation.c)
target_link_libraries(test_moderation PRIVATE core_harness venue_flags)
add_test(NAME moderation COMMAND test_moderation ${PROJECT_SOURCE_DIR}/scenes/demo)

# One venue over two nodes, the core alone: two venues and the test as Redis.
add_executable(test_mesh unit/test_mesh.c)
target_link_libraries(test_mesh PRIVATE core_harness venue_flags m)
add_test(NAME mesh COMMAND test_mesh ${PROJECT_SOURCE_DIR}/scenes/demo)

# The store on its own, on both engines: round trips, nodes sharing a
# database, upgrades of older databases, outages.
add_executable(test_store unit/test_store.c)
target_link_libraries(test_store PRIVATE venue_core check_store venue_flags)
venue_store_test(store test_store)

# A SIGHUP reload under allocation failures: all or nothing. malloc, calloc
# and realloc of our own objects are wrapped so the test can fail them.
add_executable(test_reload unit/test_reload.c)
target_link_libraries(test_reload PRIVATE core_harness venue_admin venue_flags)
target_link_options(test_reload PRIVATE
    -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
add_test(NAME reload COMMAND test_reload ${PROJECT_SOURCE_DIR})

# The twin table: notifications whole or not at all, fan-out per tick to
# the rooms that show an entity, bounds, the ingest's rate, the store (on
# both engines).
add_executable(test_twin unit/test_twin.c)
target_link_libraries(test_twin PRIVATE core_harness check_store venue_flags)
venue_store_test(twins.core test_twin ${PROJECT_SOURCE_DIR}/scenes/demo)

# The programme in the core: live and ended on the clock the test moves,
# the roles a session gives, slides, captions, questions, the floor, stars,
# reminders and a restart in the middle.
add_executable(test_prog unit/test_prog.c)
target_link_libraries(test_prog PRIVATE core_harness check_store venue_flags)
venue_store_test(programme.core test_prog ${PROJECT_SOURCE_DIR}/scenes/demo)

# Voice in the core: who may speak and hear, told to a fake media server's
# client and to the clients; Janus' events played by the test.
add_executable(test_voice unit/test_voice.c)
target_link_libraries(test_voice PRIVATE core_harness venue_flags)
add_test(NAME voice.core COMMAND test_voice ${PROJECT_SOURCE_DIR}/scenes/demo)

# What people say to each other: a room's chat and its memory, reactions,
# direct messages; a restart in the middle.
add_executable(test_social unit/test_social.c)
target_link_libraries(test_social PRIVATE core_harness venue_flags)
add_test(NAME social.core COMMAND test_social ${PROJECT_SOURCE_DIR}/scenes/demo)

# Finding a person: the name match, the bound on a reply, privacy (kept in
# the registry), guests only in one's own room, arriving beside someone.
add_executable(test_find unit/test_find.c)
target_link_libraries(test_find PRIVATE core_harness venue_flags m)
add_test(NAME find.core COMMAND test_find ${PROJECT_SOURCE_DIR}/scenes/demo)

# Guest churn and guests passing for someone: the session indexes, the cap
# on detached guests, per-address limits of hellos and failed resumes, no
# users row for a guest that never entered a room, reserved names, roles
# on chat lines.
add_executable(test_churn unit/test_churn.c)
target_link_libraries(test_churn PRIVATE core_harness venue_flags)
add_test(NAME churn.core COMMAND test_churn ${PROJECT_SOURCE_DIR}/scenes/demo)
