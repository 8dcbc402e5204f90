// SPDX-License-Identifier: Apache-2.0
// A test program's own directory: made by its CMocka group setup, removed by its group
// teardown, and everything the program writes lives below it.
#pragma once

#include <sys/types.h>

#include <string>

namespace test_support {

// /dev/shm where it is writable, else /tmp: for tests of failures and attacks, which are
// not about the disk's speed. (Not for programs that must run there: /dev/shm may be noexec.)
std::string tmpfs_or_tmp();

// Makes <parent>/<name>.XXXXXX with `mode`, failing the test when it cannot, and returns
// it; it is scratch_dir() from then on.
const std::string& make_scratch_dir(const std::string& parent, const char* name, mode_t mode);
const std::string& scratch_dir();

// CMocka group teardown: removes scratch_dir() and everything below it.
int remove_scratch_dir(void** state);

}  // namespace test_support
