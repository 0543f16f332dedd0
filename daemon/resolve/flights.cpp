#include "daemon/resolve/flights.hpp"

#include <utility>

namespace greenfinch::daemon {

Flights::Flight* Flights::find(const dns::QueryKey& key) {
    Flight* const* leading = table_.find(key.hash(), [&key](Flight* f) { return *f->key == key; });
    return leading ? *leading : nullptr;
}

Flights::LeadFlight::LeadFlight(Flights& flights, const dns::QueryKey& key)
    : flights_(flights),
      key_(key),
      flight_(core::make_ref<Flight>(key)) {
    flights_.table_.insert(key_.hash(), flight_.get());
}

Flights::LeadFlight::~LeadFlight() {
    if (!landed_) finish(nullptr, Ending::Abandoned);
}

void Flights::LeadFlight::land(cache::AnswerPtr answer, std::optional<dns::EdeCode> failure) {
    flight_->failure = failure;
    finish(std::move(answer), Ending::Landed);
}

void Flights::LeadFlight::finish(cache::AnswerPtr answer, Ending ending) {
    landed_ = true;
    flights_.table_.erase(key_.hash(), flight_.get());
    flight_->abandoned =
        ending == Ending::Abandoned;  // then followers ask again rather than wait out their budget for nothing
    flight_->result.set(std::move(answer));
}

}  // namespace greenfinch::daemon
