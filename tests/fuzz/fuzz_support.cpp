#include <iniparser.h>

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

namespace {
int quiet(const char*, ...) {
    return 0;
}
}  // namespace

void silence_iniparser() {
    iniparser_set_error_callback(quiet);
}

}  // namespace fuzz
