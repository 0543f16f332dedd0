// RandomIds: unpredictable 16-bit DNS message IDs, drawn from the kernel's CSPRNG a few hundred at a time.
//
// compat(glibc 2.36): its arc4random() is one getrandom() system call per call, one per forwarded query, a cost worth
// avoiding on that path. Batching keeps the IDs just as unguessable (they are the kernel's bytes) for a fraction of it.
// One per upstream channel, so one per hub: no locking.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace greenfinch::upstream {

class RandomIds {
public:
    std::uint16_t next();

private:
    std::array<std::uint16_t, 512> pool_{};
    std::size_t used_ = pool_.size();
};

}  // namespace greenfinch::upstream
