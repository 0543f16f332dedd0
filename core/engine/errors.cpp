#include "core/engine/errors.hpp"

namespace greenfinch::core {

std::string describe(std::exception_ptr error) {
    if (!error) return "no error";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (const GreenletExit&) {
        return "GreenletExit";
    } catch (const TimeoutExpired& t) {
        return "Timeout #" + std::to_string(t.timeout_id) + " expired";
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace greenfinch::core
