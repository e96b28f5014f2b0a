# Script mode, run after a test executable links: asks it for its test cases and writes one CTest
# case for each, so ctest runs them apart (in parallel with -j) and a failure names its case.
#   cmake -DEXECUTABLE=<test binary> -DPREFIX=<folder name> -DOUTPUT=<ctest file> -P this file
# doctest's own discovery script splits names at ';' (CMake's list separator), which several of
# our case names contain; here a ';' becomes doctest's one-character wildcard '?' in the filter.
# A filter that matched nothing would still fail: our runner fails a run in which no case ran.
# A case whose name ends in "(runs alone)" gets RUN_SERIAL: it compares latencies across runs,
# which another test loading the host would make noisy (and its verdicts with them).
execute_process(COMMAND "${EXECUTABLE}" --list-test-cases --no-version=true
                OUTPUT_VARIABLE listing RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${EXECUTABLE} --list-test-cases failed (${status}):\n${listing}")
endif()

string(REPLACE ";" "?" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
set(script "")
set(count 0)
foreach(line IN LISTS lines)
  if(line STREQUAL "" OR line MATCHES "^\\[doctest\\]" OR line MATCHES "^=+$")
    continue()
  endif()
  string(REPLACE "," "\\," filter "${line}")  # ',' separates filters on doctest's command line
  string(REPLACE "?" "," name "${line}")
  string(APPEND script
         "add_test([==[${PREFIX}: ${name}]==] [==[${EXECUTABLE}]==] [==[--test-case=${filter}]==])\n")
  if(name MATCHES "\\(runs alone\\)$")
    string(APPEND script "set_tests_properties([==[${PREFIX}: ${name}]==] PROPERTIES RUN_SERIAL TRUE)\n")
  endif()
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "${EXECUTABLE} lists no test case")
endif()
file(WRITE "${OUTPUT}" "${script}")
