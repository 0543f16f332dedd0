// EarlyReads: whether reading an upstream's socket right after the send is finding answers.
//
// An upstream on the same host often answers before the send returns (the query wakes it and it runs at once); a
// read then saves a park and a pass through epoll. An empty read costs a system call, so reads go on while at least
// half of them find the answer, and after a run of empty ones only every 64th query tries again: a distant upstream
// costs one empty read in 64 queries.
#pragma once

#include <algorithm>

namespace greenfinch::upstream {

class EarlyReads {
public:
    bool worth_trying() noexcept { return credit_ > 0 || ++idle_ % kRetryEvery == 0; }
    void found(bool answer) noexcept { credit_ = std::clamp(credit_ + (answer ? 1 : -1), 0, kMaxCredit); }

private:
    static constexpr int kMaxCredit = 8;
    static constexpr unsigned kRetryEvery = 64;
    int credit_ = 2;
    unsigned idle_ = 0;
};

}  // namespace greenfinch::upstream
