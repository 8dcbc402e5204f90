// SPDX-License-Identifier: Apache-2.0
#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "totp/unique_fd.hpp"

namespace totp_enroll {
namespace {

std::string error_text(int error) {
    return std::strerror(error);
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t written = ::write(fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(written));
    }
    return true;
}

}  // namespace

totp::Status write_private_file(const std::string& path, std::string_view content) {
    return write_file_atomically(path, content, 0600);
}

totp::Status write_file_atomically(const std::string& path, std::string_view content, mode_t mode) {
    const std::size_t slash = path.rfind('/');
    const std::string dir =
        slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (base.empty()) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "'" + path + "' does not name a file");
    }

    std::string temp = dir + "/." + base + ".XXXXXX";
    totp::UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));  // mode 0600
    if (fd.get() < 0) {
        return totp::make_error(totp::Errc::io, "cannot write " + path + ": " + error_text(errno));
    }
    const auto give_up = [&](int error) {
        ::unlink(temp.c_str());
        return totp::make_error(totp::Errc::io, "cannot write " + path + ": " + error_text(error));
    };
    if (::fchmod(fd.get(), mode) != 0) return give_up(errno);
    if (!write_all(fd.get(), content)) return give_up(errno);
    if (::fsync(fd.get()) != 0) return give_up(errno);
    if (::close(fd.release()) != 0) return give_up(errno);
    if (::rename(temp.c_str(), path.c_str()) != 0) return give_up(errno);
    // The rename itself is durable only once the directory is.
    const totp::UniqueFd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!directory.valid() || ::fsync(directory.get()) != 0) {
        return totp::make_error(totp::Errc::io,
                                "cannot sync the directory of " + path + ": " + error_text(errno));
    }
    return {};
}

totp::Result<totp::SecretString> read_import_file(const std::string& path, std::size_t max_size) {
    totp::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0) {
        const int error = errno;
        if (error == ELOOP) {
            return totp::make_error(totp::Errc::invalid_argument,
                                    "cannot read " + path + ": is a symlink");
        }
        return totp::make_error(totp::Errc::not_found,
                                "cannot read " + path + ": " + error_text(error));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return totp::make_error(totp::Errc::not_found,
                                "cannot read " + path + ": " + error_text(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "cannot read " + path + ": not a regular file");
    }
    if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > max_size) {
        return totp::make_error(
            totp::Errc::invalid_argument,
            "cannot read " + path + ": larger than " + std::to_string(max_size) + " bytes");
    }
    totp::SecretBytes buffer(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t used = 0;
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer.data() + used, buffer.size() - used);
        if (got < 0) {
            if (errno == EINTR) continue;
            return totp::make_error(totp::Errc::not_found,
                                    "cannot read " + path + ": " + error_text(errno));
        }
        if (got == 0) break;
        used += static_cast<std::size_t>(got);
        if (used == buffer.size()) {
            return totp::make_error(totp::Errc::invalid_argument,
                                    "cannot read " + path + ": it grew while being read");
        }
    }
    const std::string_view text(reinterpret_cast<const char*>(buffer.data()), used);
    if (text.find('\0') != std::string_view::npos) {
        return totp::make_error(totp::Errc::invalid_argument,
                                path + ": not a text file (holds a NUL byte)");
    }
    return totp::SecretString(text);
}

}  // namespace totp_enroll
