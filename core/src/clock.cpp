// SPDX-License-Identifier: Apache-2.0
#include "totp/clock.hpp"

#include <ctime>

namespace totp {

std::int64_t SystemClock::now() const {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec);
}

}  // namespace totp
