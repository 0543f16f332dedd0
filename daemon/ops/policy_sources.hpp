// The policy a configuration asks for ([[forward]] zones, [local], [block]: policy/policy_loader.hpp), loaded with
// its errors told as the configuration's own, and what a reload from one policy to the next must drop from the
// memory cache.
#pragma once

#include "cache/memory_cache.hpp"
#include "daemon/ops/config.hpp"
#include "policy/policy_loader.hpp"

#include <cstddef>

namespace greenfinch::daemon {

policy::PolicySources policy_sources(const Config& config);

// Reads every file the configuration names. Throws ConfigError (a record that does not parse, a file that cannot be
// read); logs one warning per file with bad lines, naming the first few as file:line.
policy::LoadedPolicy load_policy(const Config& config);

// One info line: what the policy holds and how long its files took.
void log_policy(const policy::LoadedPolicy& loaded);

// Drops from `cache` what `running` answered that `next` would answer otherwise: the names of each forward zone whose
// servers changed (or that came or went; [upstream] servers changing drops nothing), and, when the block lists or the rebinding settings changed, every answer
// the screening of upstream answers (Policy::screen) may have passed or made otherwise. Returns how many went.
std::size_t drop_changed_answers(cache::MemoryCache& cache, const Config& running, const policy::Policy& running_policy,
                                 const Config& next, const policy::Policy& next_policy);

}  // namespace greenfinch::daemon
