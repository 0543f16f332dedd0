// Runs a program to completion without blocking the hub: its output is read through cooperative waits, so the
// test's own servers (a TestUpstream, say) keep answering it meanwhile.
#pragma once

#include "core/engine/hub.hpp"

#include <string>
#include <vector>

namespace greenfinch::test {

struct ProcessResult {
    int exit_code = -1;  // -1: killed by a signal, or it outlived the timeout
    std::string output;  // stdout and stderr together
};

ProcessResult run_process(std::vector<std::string> argv, core::Seconds timeout);

}  // namespace greenfinch::test
