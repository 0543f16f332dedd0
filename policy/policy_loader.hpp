// Loading a Policy: the operator's records, hosts files, zones and lists read, checked and put together in one
// NameTable (policy.hpp). Runs off the query path (at start, and on a reload, on a thread of its own), so the
// workers go on answering from the policy in force meanwhile.
//
// What is refused, with a PolicyError naming the key and the item ("local.records[2]: bad IPv4 address",
// "block.lists: /etc/greenfinch/ads.txt: No such file or directory"): a record that does not parse, a zone or name
// that is not one, a file that cannot be read. The caller keeps the running policy then. What is not refused: bad
// lines inside a list or hosts file, which are skipped and counted per file (FileLoad), for one warning each.
#pragma once

#include "policy/block_answer.hpp"
#include "policy/list_file.hpp"
#include "policy/policy.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace greenfinch::policy {

enum class PrivateReverse : std::uint8_t { answered, forwarded };  // [local] private_reverse
enum class RebindProtection : std::uint8_t { off, on };

struct PolicySources {
    std::vector<std::string> forward_zones{};  // names, in the order of their routes: zone 1, 2, ...
    std::vector<std::string> records{};        // zone-file lines
    std::vector<std::string> hosts_files{};
    std::vector<std::string> local_zones{};
    PrivateReverse private_reverse = PrivateReverse::answered;
    RebindProtection rebind_protection = RebindProtection::off;
    std::vector<std::string> rebind_allow{};
    std::vector<std::string> block_lists{};
    std::vector<std::string> allow_lists{};
    BlockAnswer block_answer = BlockAnswer::nxdomain;
};

// One file read: how much it gave and what it skipped.
struct FileLoad {
    std::string key;  // the setting that names it: "block.lists", "block.allow", "local.hosts_files"
    std::string path;
    std::size_t entries = 0;  // names of a list, (address, name) pairs of a hosts file
    BadLines bad{};
    double seconds = 0;  // reading, parsing and indexing it
};

struct LoadedPolicy {
    PolicySnapshot policy;
    std::vector<FileLoad> files{};
    std::size_t names = 0;  // in the policy's NameTable
    std::size_t memory_bytes = 0;
};

struct PolicyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws PolicyError.
LoadedPolicy load_policy(const PolicySources& sources);

}  // namespace greenfinch::policy
