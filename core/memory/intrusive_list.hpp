// IntrusiveList<T>: a doubly linked list of objects that carry their own ListNode.
//
// Waiters live on the stack of the greenlet that waits; linking them in place means parking allocates nothing, and
// a waiter can unlink itself in O(1) from its destructor whichever way the wait ends (wake-up, timeout, kill).
// A ListNode unlinks itself when destroyed, so a list can never hold a dangling node.
#pragma once

#include <cstddef>

namespace greenfinch::core {

class ListNode {
public:
    ListNode() = default;
    ListNode(const ListNode&) = delete;
    ListNode& operator=(const ListNode&) = delete;
    ~ListNode() { unlink(); }

    bool linked() const noexcept { return prev_ != nullptr; }
    void unlink() noexcept {
        if (!prev_) return;
        prev_->next_ = next_;
        next_->prev_ = prev_;
        prev_ = next_ = nullptr;
        if (size_) --*size_;
        size_ = nullptr;
    }

private:
    template <class T, ListNode T::*>
    friend class IntrusiveList;
    ListNode* prev_ = nullptr;
    ListNode* next_ = nullptr;
    std::size_t* size_ = nullptr;
    void* owner_ = nullptr;
};

template <class T, ListNode T::*Node>
class IntrusiveList {
public:
    IntrusiveList() noexcept { head_.prev_ = head_.next_ = &head_; }
    IntrusiveList(const IntrusiveList&) = delete;
    IntrusiveList& operator=(const IntrusiveList&) = delete;
    ~IntrusiveList() { clear(); }

    bool empty() const noexcept { return head_.next_ == &head_; }
    std::size_t size() const noexcept { return size_; }

    void push_back(T& item) noexcept {
        ListNode& n = item.*Node;
        n.unlink();
        n.prev_ = head_.prev_;
        n.next_ = &head_;
        head_.prev_->next_ = &n;
        head_.prev_ = &n;
        n.size_ = &size_;
        n.owner_ = &item;
        ++size_;
    }
    T& front() noexcept { return owner(*head_.next_); }
    T* pop_front() noexcept {
        if (empty()) return nullptr;
        T& t = front();
        (t.*Node).unlink();
        return &t;
    }
    void clear() noexcept {
        while (!empty()) pop_front();
    }
    // Moves every item of `other` to the back of this list, keeping their order.
    void splice_back(IntrusiveList& other) noexcept {
        while (T* t = other.pop_front()) push_back(*t);
    }

    template <class F>
    void for_each(F&& f) {
        for (ListNode* n = head_.next_; n != &head_;) {
            ListNode* next = n->next_;
            f(owner(*n));
            n = next;
        }
    }

private:
    static T& owner(ListNode& n) noexcept { return *static_cast<T*>(n.owner_); }

    ListNode head_;
    std::size_t size_ = 0;
};

}  // namespace greenfinch::core
