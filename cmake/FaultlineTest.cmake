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
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} faultline_testing)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name}
           COMMAND ${name} --gtest_output=xml:${FAULTLINE_RESULTS_DIR}/${T_LABEL}/${name}.xml)
  set_tests_properties(${name} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "FAULTLINE_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
