// Ref<T>: an intrusive, single-threaded reference-counting pointer.
//
// Greenlets and the objects shared between a parked greenlet and a C callback live on one hub, hence one thread, so
// the count needs no atomics. T derives from RefCounted<T>; when the last Ref goes, T::last_ref_dropped() decides what
// happens (by default: delete). Never hand a Ref to another thread.
#pragma once

#include <cstddef>
#include <utility>

namespace greenfinch::core {

template <class T>
class RefCounted {
public:
    RefCounted() = default;
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;

    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) static_cast<T*>(this)->last_ref_dropped();
    }
    std::size_t ref_count() const noexcept { return refs_; }

protected:
    ~RefCounted() = default;
    void last_ref_dropped() noexcept { delete static_cast<T*>(this); }

private:
    std::size_t refs_ = 0;
};

template <class T>
class Ref {
public:
    Ref() noexcept = default;
    Ref(std::nullptr_t) noexcept {}
    explicit Ref(T* p) noexcept : p_(p) {
        if (p_) p_->add_ref();
    }
    Ref(const Ref& o) noexcept : Ref(o.p_) {}
    Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    template <class U>
    Ref(const Ref<U>& o) noexcept : Ref(o.get()) {}
    ~Ref() { reset(); }

    Ref& operator=(Ref o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }

    void reset() noexcept {
        if (T* p = std::exchange(p_, nullptr)) p->release();
    }
    T* get() const noexcept { return p_; }
    T* operator->() const noexcept { return p_; }
    T& operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.p_ == b.p_; }

private:
    T* p_ = nullptr;
};

template <class T, class... Args>
Ref<T> make_ref(Args&&... args) {
    return Ref<T>(new T(std::forward<Args>(args)...));
}

}  // namespace greenfinch::core
