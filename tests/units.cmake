# Unit tests of single modules: the outgoing queue, the command-line and
# environment options, the metrics text and the admin API, each driven
# directly through its header (no network, no venued process).

# Frames and the bounded per-session queue (core/outq.c).
add_executable(test_outq unit/test_outq.c)
target_link_libraries(test_outq PRIVATE venue_core check venue_flags)
add_test(NAME outq COMMAND test_outq)

# The settings' defaults and options_parse. options.c belongs to the venued
# executable, not to a library, so the test compiles it in itself.
add_executable(test_options unit/test_options.c ${PROJECT_SOURCE_DIR}/server/app/options.c)
target_include_directories(test_options PRIVATE ${PROJECT_SOURCE_DIR}/server/app)
target_link_libraries(test_options PRIVATE venue_common venue_store check venue_flags m)
add_test(NAME options COMMAND test_options)

# The Prometheus exposition and the latency histograms (core/metrics.c).
add_executable(test_metrics unit/test_metrics.c)
target_link_libraries(test_metrics PRIVATE venue_core check venue_flags m)
add_test(NAME metrics COMMAND test_metrics)

# The admin API over a real store and registry and a venue without a network.
add_executable(test_admin_api unit/test_admin_api.c)
target_link_libraries(test_admin_api PRIVATE venue_admin core_harness venue_flags PkgConfig::JANSSON)
add_test(NAME admin.unit COMMAND test_admin_api ${PROJECT_SOURCE_DIR}/scenes/demo)

# Interest tiers against a brute-force reference (core/interest.c).
add_executable(test_interest unit/test_interest.c)
target_link_libraries(test_interest PRIVATE venue_core check venue_flags m)
add_test(NAME interest COMMAND test_interest)
