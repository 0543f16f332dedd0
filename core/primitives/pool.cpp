#include "core/primitives/pool.hpp"

#include <stdexcept>

namespace greenfinch::core {

Group::Group() : state_(make_ref<State>(Hub::current())) { state_->owner = this; }

Group::~Group() {
    // Members hold the group's state through their removal links and the state holds them: break that cycle.
    State& s = *state_;
    s.owner = nullptr;
    for (auto& slot : s.slots) {
        if (slot.greenlet) slot.greenlet->unlink(slot.link);
    }
    s.slots.clear();
}

void Group::add(const Ref<Greenlet>& g) {
    if (!contains(*g)) add_new(g);
}

void Group::add_new(const Ref<Greenlet>& g) {
    State& s = *state_;
    std::size_t index;
    if (!s.free.empty()) {
        index = s.free.back();
        s.free.pop_back();
    } else {
        index = s.slots.size();
        s.slots.emplace_back();
    }
    s.slots[index].greenlet = g;
    ++s.count;
    // The link holds the shared state, not the Group: a member may outlive its Group.
    s.slots[index].link = g->rawlink([st = state_, index](Greenlet&) {
        Group* owner = st->owner;
        if (owner) {
            owner->remove_slot(index);
        }
    });
}

void Group::remove_slot(std::size_t index) {
    State& s = *state_;
    Slot& slot = s.slots[index];
    if (!slot.greenlet) return;
    slot.greenlet.reset();
    slot.link = 0;
    slot.dying = false;
    s.free.push_back(index);
    --s.count;
    if (s.count == 0 && s.emptied.has_waiters()) s.emptied.schedule();
    on_removed();
}

void Group::discard(Greenlet& g) {
    State& s = *state_;
    for (std::size_t i = 0; i < s.slots.size(); ++i) {
        if (s.slots[i].greenlet.get() == &g) {
            g.unlink(s.slots[i].link);
            remove_slot(i);
            return;
        }
    }
}

bool Group::contains(const Greenlet& g) const {
    for (const auto& slot : state_->slots) {
        if (slot.greenlet.get() == &g) return true;
    }
    return false;
}

std::vector<Ref<Greenlet>> Group::members() const {
    std::vector<Ref<Greenlet>> out;
    out.reserve(state_->count);
    for (const auto& slot : state_->slots) {
        if (slot.greenlet) out.push_back(slot.greenlet);
    }
    return out;
}

bool Group::join(MaybeTimeout timeout) {
    State& s = *state_;
    Deadline deadline(s.hub, timeout);
    while (s.count != 0) {
        if (!s.emptied.wait(deadline.remaining())) return s.count == 0;
    }
    return true;
}

bool Group::join_or_raise(MaybeTimeout timeout) {
    Deadline deadline(state_->hub, timeout);
    auto gs = members();
    joinall(gs, JoinAllOptions{.timeout = deadline.remaining(), .raise_error = true});
    return join(deadline.remaining());
}

void Group::deliver_kill(std::exception_ptr error) {
    State& s = *state_;
    std::vector<Ref<Greenlet>> targets;
    for (auto& slot : s.slots) {
        if (slot.greenlet && !slot.dying && !slot.greenlet->ready()) {
            slot.dying = true;
            targets.push_back(slot.greenlet);
        }
    }
    killall_nowait(targets, KillWith{std::move(error)});
}

void Group::kill(KillWith with) { kill_and_wait(std::nullopt, std::move(with)); }

void Group::kill_and_wait(MaybeTimeout timeout, KillWith with) {
    Deadline deadline(state_->hub, timeout);
    deliver_kill(std::move(with.error));
    // Members leave through their removal links, one callback after they die: wait for the group to empty.
    Timeout t(deadline.remaining());
    join();
}

void Group::kill_nowait(KillWith with) { deliver_kill(std::move(with.error)); }

Pool::Pool(std::optional<int> size) : size_(size) {
    if (size && *size < 0) throw std::invalid_argument("a pool's size must be >= 0");
    if (size) slots_.emplace(*size);
}

Pool::~Pool() = default;

void Pool::add_for(const Ref<Greenlet>& g, MaybeTimeout timeout) {
    if (contains(*g)) return;
    if (slots_ && !slots_->try_acquire_for(timeout)) throw PoolFull();
    add_holding_slot(g);
}

void Pool::add_nowait(const Ref<Greenlet>& g) {
    if (contains(*g)) return;
    if (slots_ && !slots_->try_acquire()) throw PoolFull();
    add_holding_slot(g);
}

void Pool::add_holding_slot(const Ref<Greenlet>& g) {
    if (contains(*g)) {  // added by someone else while we waited for the slot
        if (slots_) slots_->release();
        return;
    }
    Group::add(g);
}

void Pool::on_removed() {
    if (slots_) slots_->release();
}

int Pool::free_count() const noexcept {
    if (!size_) return 1;
    return slots_->counter();
}

bool Pool::full() const noexcept { return size_ && slots_->counter() <= 0; }

int Pool::wait_available(MaybeTimeout timeout) {
    if (!slots_) return 1;
    return slots_->wait(timeout);
}

}  // namespace greenfinch::core
