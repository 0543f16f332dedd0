// SmallFunction<R(Args...)>: a move-only callable with an inline buffer.
//
// The hub's run queue, links and wake-ups store one of these per entry; callables of up to `Inline` bytes (a Ref and
// a sequence number, a pointer and an int, ...) are stored in place, so scheduling allocates nothing. Larger callables
// fall back to the heap, which is correct but slower; hot paths keep their captures small.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace greenfinch::core {

template <class Signature, std::size_t Inline = 32>
class SmallFunction;

template <class R, class... Args, std::size_t Inline>
class SmallFunction<R(Args...), Inline> {
public:
    SmallFunction() noexcept = default;
    SmallFunction(std::nullptr_t) noexcept {}

    template <class F, class D = std::decay_t<F>,
              class = std::enable_if_t<!std::is_same_v<D, SmallFunction> && std::is_invocable_r_v<R, D&, Args...>>>
    SmallFunction(F&& f) {
        if constexpr (fits_inline<D>()) {
            ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
            ops_ = &inline_ops<D>;
        } else {
            ::new (static_cast<void*>(buf_)) D*(new D(std::forward<F>(f)));
            ops_ = &heap_ops<D>;
        }
    }

    SmallFunction(SmallFunction&& o) noexcept : ops_(o.ops_) {
        if (ops_) {
            ops_->move(buf_, o.buf_);
            o.ops_ = nullptr;
        }
    }
    SmallFunction& operator=(SmallFunction&& o) noexcept {
        if (this != &o) {
            reset();
            if ((ops_ = o.ops_)) {
                ops_->move(buf_, o.buf_);
                o.ops_ = nullptr;
            }
        }
        return *this;
    }
    ~SmallFunction() { reset(); }

    void reset() noexcept {
        if (ops_) {
            ops_->destroy(buf_);
            ops_ = nullptr;
        }
    }
    explicit operator bool() const noexcept { return ops_ != nullptr; }
    R operator()(Args... args) { return ops_->call(buf_, std::forward<Args>(args)...); }

private:
    struct Ops {
        R (*call)(void*, Args&&...);
        void (*move)(void* dst, void* src) noexcept;  // move-constructs into dst and destroys src
        void (*destroy)(void*) noexcept;
    };

    template <class D>
    static constexpr bool fits_inline() {
        return sizeof(D) <= Inline && alignof(D) <= alignof(std::max_align_t) &&
               std::is_nothrow_move_constructible_v<D>;
    }

    template <class D>
    static constexpr Ops inline_ops{
        [](void* b, Args&&... a) -> R { return (*static_cast<D*>(b))(std::forward<Args>(a)...); },
        [](void* dst, void* src) noexcept {
            ::new (dst) D(std::move(*static_cast<D*>(src)));
            static_cast<D*>(src)->~D();
        },
        [](void* b) noexcept { static_cast<D*>(b)->~D(); },
    };

    template <class D>
    static constexpr Ops heap_ops{
        [](void* b, Args&&... a) -> R { return (**static_cast<D**>(b))(std::forward<Args>(a)...); },
        [](void* dst, void* src) noexcept { ::new (dst) D*(*static_cast<D**>(src)); },
        [](void* b) noexcept { delete *static_cast<D**>(b); },
    };

    alignas(std::max_align_t) unsigned char buf_[Inline < sizeof(void*) ? sizeof(void*) : Inline];
    const Ops* ops_ = nullptr;
};

}  // namespace greenfinch::core
