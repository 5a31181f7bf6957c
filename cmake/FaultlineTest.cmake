# faultline_test(<name> LABEL <unit|fake|local|chaos|staging> SOURCES ... [LIBS ...])
#
# One test executable is one ctest test. Its GoogleTest XML (with the `covers` and `seed`
# properties the traceability report reads) goes to ${FAULTLINE_RESULTS_DIR}/<label>/<name>.xml.
function(faultline_test name)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_LABEL)
    message(FATAL_ERROR "faultline_test(${name}): LABEL is required")
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  # Sanitized builds run 3-15x slower (TSan most): their timeouts are three times the budget.
  if(FAULTLINE_SANITIZE)
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * 3")
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} faultline_testing)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name}
           COMMAND ${name} --gtest_output=xml:${FAULTLINE_RESULTS_DIR}/${T_LABEL}/${name}.xml)
  # LeakSanitizer skips only the leaks cmake/lsan.supp names (one, inside libpqxx 6.4).
  set(_env "FAULTLINE_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
           "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/cmake/lsan.supp")
  set_tests_properties(${name} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "${_env}")
endfunction()

# faultline_fuzz_target(<name> SOURCES ... [LIBS ...] [CORPUS dir])
#
# A fuzz target is a source defining LLVMFuzzerTestOneInput. In every build it is also linked with
# harness/testing/fuzz_driver.cpp into <name>_replay, a ctest test (label `unit`) that feeds it the
# corpus and a bounded number of seeded random and mutated inputs — so the default build exercises
# it under whatever sanitizer preset is in use. With the `fuzz` preset (clang), <name> is a real
# libFuzzer binary and a ctest test (label `fuzz`) fuzzes it for a bounded time.
function(faultline_fuzz_target name)
  cmake_parse_arguments(F "" "CORPUS;SECONDS" "SOURCES;LIBS" ${ARGN})
  if(NOT F_SECONDS)
    set(F_SECONDS 30)
  endif()
  # Every target's seed corpus lives in fixtures/fuzz/<name>/ unless it names another.
  if(NOT F_CORPUS)
    set(F_CORPUS ${PROJECT_SOURCE_DIR}/fixtures/fuzz/${name})
  endif()
  add_executable(${name}_replay ${F_SOURCES} ${PROJECT_SOURCE_DIR}/harness/testing/fuzz_driver.cpp)
  target_link_libraries(${name}_replay PRIVATE ${F_LIBS} faultline_core)
  target_include_directories(${name}_replay PRIVATE ${PROJECT_SOURCE_DIR})
  set_target_properties(${name}_replay PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name}_replay COMMAND ${name}_replay ${F_CORPUS})
  set(_timeout 300)
  if(FAULTLINE_SANITIZE)
    set(_timeout 900)  # as faultline_test: sanitized builds get three times the budget
  endif()
  set_tests_properties(${name}_replay PROPERTIES LABELS unit TIMEOUT ${_timeout})
  if(FAULTLINE_FUZZ)
    add_executable(${name} ${F_SOURCES})
    target_link_libraries(${name} PRIVATE ${F_LIBS})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
    # libFuzzer adds what it finds to the first corpus directory: a working copy in the build
    # tree, so the checked-in seed corpus never changes under a fuzz run.
    set(work_corpus ${CMAKE_BINARY_DIR}/fuzz/${name}_corpus)
    file(MAKE_DIRECTORY ${work_corpus})
    add_test(NAME ${name}_fuzz COMMAND ${name} -max_total_time=${F_SECONDS} -rss_limit_mb=2048
                                      ${work_corpus} ${F_CORPUS})
    set_tests_properties(${name}_fuzz PROPERTIES LABELS fuzz TIMEOUT 600)
  endif()
endfunction()
