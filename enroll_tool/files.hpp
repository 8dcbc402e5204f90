// SPDX-License-Identifier: Apache-2.0
// Files the tool reads and writes: QR images out and import files in on the caller's behalf,
// always with the caller's rights (never inside an Elevation); root's rollout file.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp_enroll {

// Writes `content` to `path` with mode 0600, atomically: a temporary file in the same
// directory, written and synced, then renamed over `path`. A failure leaves no file
// behind and is Errc::io.
totp::Status write_private_file(const std::string& path, std::string_view content);

// The same with `mode`, and the directory synced after the rename, so the new file is there
// after a crash once this returns. The file belongs to the effective user.
totp::Status write_file_atomically(const std::string& path, std::string_view content, mode_t mode);

// The contents of a regular file of at most `max_size` bytes, opened without following
// a symlink. Errc::not_found if it cannot be opened or read; Errc::invalid_argument if it is not a
// regular file, too large, or holds a NUL byte.
totp::Result<totp::SecretString> read_import_file(const std::string& path, std::size_t max_size);

}  // namespace totp_enroll
