// BlockAnswer: what a client asking for a blocked name is told ([block] answer).
#pragma once

#include <cstdint>

namespace greenfinch::policy {

enum class BlockAnswer : std::uint8_t {
    nxdomain,  // the name does not exist
    null,      // A 0.0.0.0, AAAA ::, NODATA for other types: clients that retry on NXDOMAIN stop here
    refused,   // REFUSED
};

}  // namespace greenfinch::policy
