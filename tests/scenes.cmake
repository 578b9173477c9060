# Scene tests (scenes/scene.c and the demo venue): the unit test, one CTest
# test per broken venue in tests/scene-cases/, the glTF asset check and the
# JSON Schema check. Every test name starts with "scene" (ctest -R scene).
set(SCENE_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})

# test_scene compiles scene.c in, to inject allocation failures.
add_executable(test_scene ${SCENE_TESTS_DIR}/unit/test_scene.c)
target_include_directories(test_scene PRIVATE ${PROJECT_SOURCE_DIR}/scenes)
target_link_libraries(test_scene PRIVATE PkgConfig::JANSSON PkgConfig::CGLM PkgConfig::LIBCRYPTO
    venue_flags m)
add_test(NAME scene.unit COMMAND test_scene WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})

# Each case runs from the source root so messages name files as people see them.
add_executable(scene_case ${SCENE_TESTS_DIR}/unit/scene_case.c)
target_link_libraries(scene_case PRIVATE venue_scene venue_flags)
file(GLOB SCENE_CASES LIST_DIRECTORIES true ${SCENE_TESTS_DIR}/scene-cases/*)
foreach(dir ${SCENE_CASES})
    if(IS_DIRECTORY ${dir})
        get_filename_component(name ${dir} NAME)
        file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
        add_test(NAME scene.case.${name} COMMAND scene_case ${rel}
                 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    endif()
endforeach()

find_program(SCENE_NODE node)
if(SCENE_NODE)
    add_test(NAME scene.assets
             COMMAND ${SCENE_NODE} scenes/tools/make-assets.mjs --check
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
else()
    message(WARNING "node not found: scene.assets not registered")
endif()

# The demo venue against scene.schema.json, when python3 has jsonschema
# (skipped, not failed, where it has not: the C loader is the authority).
find_program(SCENE_PYTHON python3)
if(SCENE_PYTHON)
    add_test(NAME scene.schema
             COMMAND ${SCENE_PYTHON} ${SCENE_TESTS_DIR}/unit/scene_schema.py
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(scene.schema PROPERTIES SKIP_RETURN_CODE 77)
endif()
