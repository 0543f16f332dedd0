#include "upstream/server_health.hpp"

#include <catch2/catch.hpp>

using greenfinch::upstream::ServerHealth;

TEST_CASE("upstream health: a server unheard for longer than an attempt timeout is skipped, then probed") {
    ServerHealth h(3, 0.5, 2.0);
    CHECK(h.first_to_try(10.0) == 0);
    h.sent(0, 10.0);
    h.sent(0, 10.3);
    CHECK_FALSE(h.down(0, 10.4));  // in flight, not yet overdue
    CHECK(h.first_to_try(10.4) == 0);
    CHECK(h.down(0, 10.6));  // the query at 10.0 is overdue and nothing came back
    CHECK(h.first_to_try(10.6) == 1);
    CHECK(h.first_to_try(11.9) == 1);
    CHECK(h.first_to_try(12.0) == 0);  // one probe, a probe interval after the first unanswered query
    CHECK(h.first_to_try(12.1) == 1);
    CHECK(h.first_to_try(13.9) == 1);
    CHECK(h.first_to_try(14.0) == 0);  // and the next, a probe interval after that one
    h.heard(0);
    CHECK_FALSE(h.down(0, 14.1));
    CHECK(h.first_to_try(14.1) == 0);
}

TEST_CASE("upstream health: with every server down, queries still go out, in the configured order") {
    ServerHealth h(2, 0.5, 60.0);
    h.sent(0, 0.0);
    h.sent(1, 0.0);
    CHECK(h.down(0, 1.0));
    CHECK(h.down(1, 1.0));
    CHECK(h.first_to_try(1.0) == 0);
    h.heard(1);
    CHECK(h.first_to_try(1.0) == 1);
}
