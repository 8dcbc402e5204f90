// SPDX-License-Identifier: Apache-2.0
// Small file helpers for building the sandbox and the stores.
#pragma once

#include <string>
#include <string_view>

namespace bench {

// Gives `path` exactly `content` and `mode`, not synced (enrollment syncs the whole file
// system once at the end). An existing file is overwritten in place, never deleted and
// re-created: see sandbox.hpp for why the benchmark avoids freeing files.
void write_file(const std::string& path, std::string_view content, unsigned mode);

// Replaces `path` by writing `path`.bench-tmp, fsync, rename: the way
// google-authenticator itself replaces its files.
void replace_file(const std::string& path, std::string_view content, unsigned mode);

// syncfs() on the file system holding `path`.
void sync_file_system(const std::string& path);

}  // namespace bench
