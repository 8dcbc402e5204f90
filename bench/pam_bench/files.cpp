// SPDX-License-Identifier: Apache-2.0
#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bench {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view content, const std::string& path) {
    while (!content.empty()) {
        const ssize_t written = ::write(fd, content.data(), content.size());
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) fail("write " + path);
        content.remove_prefix(static_cast<std::size_t>(written));
    }
}

}  // namespace

void write_file(const std::string& path, std::string_view content, unsigned mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) fail("open " + path);
    if (::fchmod(fd, mode) != 0) fail("chmod " + path);
    write_all(fd, content, path);
    if (::ftruncate(fd, static_cast<off_t>(content.size())) != 0) fail("truncate " + path);
    if (::close(fd) != 0) fail("close " + path);
}

void replace_file(const std::string& path, std::string_view content, unsigned mode) {
    const std::string temp = path + ".bench-tmp";
    const int fd =
        ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) fail("create " + temp);
    if (::fchmod(fd, mode) != 0) fail("chmod " + temp);
    write_all(fd, content, temp);
    if (::fsync(fd) != 0) fail("fsync " + temp);
    if (::close(fd) != 0) fail("close " + temp);
    if (::rename(temp.c_str(), path.c_str()) != 0) fail("rename " + temp);
}

void sync_file_system(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("open " + path);
    if (::syncfs(fd) != 0) fail("syncfs " + path);
    ::close(fd);
}

}  // namespace bench
