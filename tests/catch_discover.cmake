# Registers each Catch2 test case as its own CTest test, so ctest reports and parallelises them one by one.
include(Catch)
function(greenfinch_discover_tests target)
  catch_discover_tests(${target} PROPERTIES TIMEOUT 60)
endfunction()
