// SPDX-License-Identifier: Apache-2.0
#include <cstdio>
#include <cstdlib>

#include "fuzz_input.hpp"

namespace fuzz {

void violated(const char* property, const std::string& detail) {
    std::fprintf(stderr, "\n*** property violated: %s%s%s\n", property, detail.empty() ? "" : ": ",
                 detail.c_str());
    std::fflush(stderr);
    std::abort();
}

}  // namespace fuzz
