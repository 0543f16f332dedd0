# Registers each Catch2 test case as its own CTest test, so ctest reports and parallelises them one by one.
# `--warn NoTests` makes a test whose filter matches nothing fail instead of passing with nothing run: CMake splits
# lists at semicolons, so a test name with one in it reached Catch cut short, and ten tests passed without running.
include(Catch)
function(greenfinch_discover_tests target)
  catch_discover_tests(${target} EXTRA_ARGS --warn NoTests PROPERTIES TIMEOUT 60)
endfunction()
