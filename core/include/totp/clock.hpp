// SPDX-License-Identifier: Apache-2.0
// The one place the module and tools read the time.
#pragma once

#include <cstdint>

namespace totp {

class Clock {
  public:
    virtual ~Clock() = default;
    virtual std::int64_t now() const = 0;  // Unix seconds
};

// Reads CLOCK_REALTIME. The only Clock that production code constructs.
class SystemClock final : public Clock {
  public:
    std::int64_t now() const override;
};

}  // namespace totp
