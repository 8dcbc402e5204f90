// SPDX-License-Identifier: Apache-2.0
// A private scratch directory for fuzz targets that need real files (on tmpfs when
// /dev/shm exists, so millions of writes cost nothing), removed at exit.
#pragma once

#include <string>

namespace fuzz {

// Created on first use, mode 0755, owned by the caller.
const std::string& sandbox_dir();

// Replaces `path` with `content` (mode as given, owner the caller).
void write_file(const std::string& path, const std::string& content, unsigned mode);

}  // namespace fuzz
