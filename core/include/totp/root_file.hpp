// SPDX-License-Identifier: Apache-2.0
// Files that only root may change (a backend to load) or only root may read (a password or
// key in a file of its own), opened and checked through the descriptor that is then read.
#pragma once

#include <cstddef>
#include <string>

#include "totp/result.hpp"
#include "totp/secret.hpp"
#include "totp/unique_fd.hpp"

namespace totp {

enum class RootFile {
    not_writable,  // owned by root, group and other cannot write it
    secret,        // owned by root, group and other can neither read nor write it
};

inline constexpr std::size_t kMaxSecretFileSize = 4096;

// Opens `path` read-only with O_NOFOLLOW and checks it is a regular file as `kind` says (a
// secret file also at most kMaxSecretFileSize bytes). Errc::unsafe with the message
// "<what> <path>: <reason>, refusing" when a check fails; Errc::io when it cannot be opened.
Result<UniqueFd> open_root_file(const std::string& what, const std::string& path, RootFile kind);

// The value a root-only secret file holds (store_password_file, store_key_file, totp-enroll's
// --password-file and --key-file). One rule for all: the first line, without its line end
// and without the spaces and carriage returns after the value (what an editor, `echo` or a
// Windows line end adds), so a value cannot end in a space. A NUL byte anywhere is refused
// (Errc::invalid_argument); so is a file that grows while it is read. The read buffer is
// wiped.
Result<SecretString> read_secret_file(const std::string& what, const std::string& path);

}  // namespace totp
