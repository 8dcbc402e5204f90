// SPDX-License-Identifier: Apache-2.0
#include "totp/root_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace totp {
namespace {

Error unsafe(const std::string& what, const std::string& path, const std::string& reason) {
    return make_error(Errc::unsafe, what + " " + path + ": " + reason + ", refusing");
}

// Why the opened file fails the checks of `kind`, or nullptr.
const char* refusal(int fd, RootFile kind) {
    struct stat st {};
    const bool secret = kind == RootFile::secret;
    if (::fstat(fd, &st) != 0) return "cannot be examined";
    if (!S_ISREG(st.st_mode)) return "is not a regular file";
    if (st.st_uid != 0) return "is not owned by root";
    if ((st.st_mode & (secret ? 077 : 022)) != 0) {
        return secret ? "is accessible by group or other" : "is writable by group or other";
    }
    if (secret && st.st_size > static_cast<off_t>(kMaxSecretFileSize)) return "is too large";
    return nullptr;
}

}  // namespace

Result<UniqueFd> open_root_file(const std::string& what, const std::string& path, RootFile kind) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
        const int error = errno;
        if (error == ELOOP) return unsafe(what, path, "is a symlink");
        return make_error(Errc::io, what + " " + path + ": " + std::strerror(error));
    }
    if (const char* reason = refusal(fd.get(), kind)) {
        Error error = unsafe(what, path, reason);
        if (kind == RootFile::secret) error.message += " (keep it owned by root, chmod 600)";
        return error;
    }
    return fd;
}

Result<SecretString> read_secret_file(const std::string& what, const std::string& path) {
    Result<UniqueFd> fd = open_root_file(what, path, RootFile::secret);
    if (!fd) return fd.error();
    // One byte more than allowed, to see a file that grew past the size checked.
    SecretBytes buffer(kMaxSecretFileSize + 1);
    std::size_t size = 0;
    while (size < buffer.size()) {
        const ssize_t got = ::read(fd->get(), buffer.data() + size, buffer.size() - size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return make_error(Errc::io, what + " " + path + ": " + std::strerror(errno));
        if (got == 0) break;
        size += static_cast<std::size_t>(got);
    }
    if (size > kMaxSecretFileSize) return unsafe(what, path, "grew while being read");
    std::string_view text(reinterpret_cast<const char*>(buffer.data()), size);
    if (text.find('\0') != std::string_view::npos) {
        return make_error(Errc::invalid_argument,
                          what + " " + path + ": holds a NUL byte, not a text file");
    }
    text = text.substr(0, text.find('\n'));
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    return SecretString(text);
}

}  // namespace totp
