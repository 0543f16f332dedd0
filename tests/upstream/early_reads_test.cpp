// The policy that decides whether the upstream channel reads right after a send.
#include "upstream/early_reads.hpp"

#include <catch2/catch.hpp>

using greenfinch::upstream::EarlyReads;

namespace {
// Of the next `queries` queries, how many would read early, each read finding an answer or not as `answers` says.
int tries_over(EarlyReads& e, int queries, bool answers) {
    int tries = 0;
    for (int i = 0; i < queries; ++i) {
        if (!e.worth_trying()) continue;
        ++tries;
        e.found(answers);
    }
    return tries;
}
}  // namespace

TEST_CASE("early reads: they go on while they find answers, and stop after a few empty ones") {
    EarlyReads e;
    CHECK(tries_over(e, 1000, true) == 1000);
    // Full credit lasts eight empty reads; after that one query in 64 looks again.
    CHECK(tries_over(e, 8, false) == 8);
    CHECK(tries_over(e, 64 * 10, false) == 10);
}

TEST_CASE("early reads: a distant upstream costs one empty read in 64 queries, and one that comes closer is noticed") {
    EarlyReads e;
    CHECK(tries_over(e, 2, false) == 2);
    CHECK(tries_over(e, 6400, false) == 100);
    // The first retry that finds an answer resumes reading after every send.
    int first = 0;
    while (!e.worth_trying()) ++first;
    CHECK(first < 64);
    e.found(true);
    CHECK(tries_over(e, 100, true) == 100);
}

TEST_CASE("early reads: half of them finding answers keeps them going, a third does not") {
    EarlyReads half;
    int tries = 0;
    for (int i = 0; i < 1200; ++i) {
        if (!half.worth_trying()) continue;
        ++tries;
        half.found(tries % 2 == 0);
    }
    CHECK(tries == 1200);
    EarlyReads third;
    tries = 0;
    for (int i = 0; i < 1200; ++i) {
        if (!third.worth_trying()) continue;
        ++tries;
        third.found(tries % 3 == 0);
    }
    CHECK(tries < 1200 / 16);
}
