# Helpers shared by every target: warnings, sanitizers, module and test declarations.

function(siyu_target_options target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wconversion
    -Wno-sign-conversion
    # GCC 12 reports false -Wrestrict positives inside std::string at -O3 (GCC bug 105329).
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
  if(SIYU_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(SIYU_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
  if(SIYU_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    target_compile_definitions(${target} PRIVATE _GLIBCXX_ASSERTIONS)
  endif()
endfunction()

# siyu_add_module(name SOURCES ... DEPS ...) declares library siyu_<name>, alias siyu::<name>.
function(siyu_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(siyu_${name} STATIC ${ARG_SOURCES})
  add_library(siyu::${name} ALIAS siyu_${name})
  target_include_directories(siyu_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(siyu_${name} PUBLIC ${ARG_DEPS})
  siyu_target_options(siyu_${name})
endfunction()

# siyu_add_test(name SOURCES ... DEPS ... [LABELS ...]) declares a GoogleTest program run by CTest.
function(siyu_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  siyu_target_options(${name})
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

include(GoogleTest)
