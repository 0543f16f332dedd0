#include "core/greenlet.hpp"

#include <catch2/catch.hpp>

using namespace greenfinch::core;

TEST_CASE("smoke: spawn and get") {
    Hub hub;
    auto g = spawn([](int x) { return x * 2; }, 21);
    REQUIRE(g->get() == 42);
}
