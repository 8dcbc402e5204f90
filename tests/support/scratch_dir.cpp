// SPDX-License-Identifier: Apache-2.0
#include "scratch_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

namespace test_support {
namespace {

std::string g_scratch_dir;

}  // namespace

std::string tmpfs_or_tmp() {
    return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

const std::string& make_scratch_dir(const std::string& parent, const char* name, mode_t mode) {
    std::string dir = parent + "/" + name + ".XXXXXX";
    assert_non_null(mkdtemp(dir.data()));
    g_scratch_dir = dir;
    assert_int_equal(chmod(dir.c_str(), mode), 0);
    return g_scratch_dir;
}

const std::string& scratch_dir() {
    return g_scratch_dir;
}

int remove_scratch_dir(void**) {
    std::filesystem::remove_all(g_scratch_dir);
    return 0;
}

}  // namespace test_support
