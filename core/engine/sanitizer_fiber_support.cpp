// Sanitizer builds only: Boost.Context's ucontext backend, the one that tells ASan about stack switches
// (BOOST_USE_ASAN), needs a per-thread "current activation record" that libboost_context provides only when the
// library itself was built for ucontext. Debian builds it for fcontext, so the sanitizer build defines it here.
#if defined(BOOST_USE_UCONTEXT)
#include <boost/context/fiber.hpp>

#include <memory>

namespace boost::context::detail {

namespace {
// The thread's own stack is the first record; it lives as long as the thread.
struct ThreadRecords {
    std::unique_ptr<fiber_activation_record> main = std::make_unique<fiber_activation_record>();
    fiber_activation_record* current = main.get();
};
}  // namespace

fiber_activation_record*& fiber_activation_record::current() noexcept {
    thread_local ThreadRecords records;
    return records.current;
}

}  // namespace boost::context::detail
#endif
