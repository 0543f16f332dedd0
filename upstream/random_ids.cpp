#include "upstream/random_ids.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

namespace greenfinch::upstream {

std::uint16_t RandomIds::next() {
    if (used_ == pool_.size()) {
        auto* p = reinterpret_cast<unsigned char*>(pool_.data());
        std::size_t got = 0;
        while (got < sizeof(pool_)) {
            const ssize_t n = ::getrandom(p + got, sizeof(pool_) - got, 0);
            if (n > 0) {
                got += static_cast<std::size_t>(n);
            } else if (errno != EINTR) {
                std::abort();  // getrandom() cannot fail on Linux >= 3.17 once the pool is seeded; never guess IDs
            }
        }
        used_ = 0;
    }
    return pool_[used_++];
}

}  // namespace greenfinch::upstream
