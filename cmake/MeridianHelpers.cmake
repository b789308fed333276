# meridian_library(NAME SOURCES ... DEPS ...): one static library per layer folder.
# The DEPS list is the layer's whole allowed world: a core layer that needs gRPC or RocksDB
# does not link, which is how the build enforces DESIGN.md section 2.
function(meridian_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE meridian_warnings)
endfunction()

# meridian_test(NAME SOURCES ... DEPS ... [LABELS ...] [SERIAL]): a GoogleTest binary registered
# with CTest. SERIAL: tests that measure time run alone, so parallel tests do not disturb them.
function(meridian_test name)
  cmake_parse_arguments(ARG "SERIAL" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT MERIDIAN_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} rapidcheck rapidcheck_gtest GTest::gtest
    GTest::gtest_main meridian_warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)  # an empty LABELS value would swallow the TIMEOUT keyword that follows
  endif()
  set(serial FALSE)
  if(ARG_SERIAL)
    set(serial TRUE)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 600 RUN_SERIAL ${serial})
endfunction()
