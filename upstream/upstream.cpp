#include "upstream/upstream.hpp"

namespace greenfinch::upstream {

std::string_view describe(Outcome outcome) noexcept {
    switch (outcome) {
        case Outcome::Answered: return "answered";
        case Outcome::ServersFailed: return "every server answered SERVFAIL";
        case Outcome::Refused: return "queries refused";
        case Outcome::TimedOut: return "no answer in time";
        case Outcome::Unreachable: return "no server reachable";
        case Outcome::Failed: return "the upstream failed";
    }
    return "unknown";
}

}  // namespace greenfinch::upstream
