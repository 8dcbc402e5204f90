// SPDX-License-Identifier: Apache-2.0
// The one reader of root-only secret files (the store's password and key, totp-enroll's
// --password-file and --key-file): its checks and its one trimming rule. Runs as root.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "totp/root_file.hpp"

// CMocka last: it needs these C headers first, its fail() macro would break <ios>, and
// 1.1.5 declares its functions without extern "C".
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

namespace {

std::string g_dir;

std::string write_file(const std::string& name, std::string_view content, mode_t mode = 0600) {
    const std::string path = g_dir + "/" + name;
    ::unlink(path.c_str());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(::write(fd, content.data(), content.size()),
                     static_cast<ssize_t>(content.size()));
    assert_int_equal(::fchmod(fd, mode), 0);
    ::close(fd);
    return path;
}

std::string read_value(const std::string& path) {
    totp::Result<totp::SecretString> value = totp::read_secret_file("test file", path);
    assert_true(value.ok());
    return std::string(value->view());
}

void assert_refused(const std::string& path, totp::Errc code, const char* fragment) {
    totp::Result<totp::SecretString> value = totp::read_secret_file("test file", path);
    assert_false(value.ok());
    assert_int_equal(value.error().code, code);
    assert_non_null(std::strstr(value.error().message.c_str(), fragment));
    assert_non_null(std::strstr(value.error().message.c_str(), path.c_str()));
}

int make_dir(void**) {
    char name[] = "/tmp/test_root_file.XXXXXX";
    if (::mkdtemp(name) == nullptr) return -1;
    g_dir = name;
    return 0;
}

int remove_dir(void**) {
    return std::system(("rm -rf " + g_dir).c_str()) == 0 ? 0 : -1;
}

static void the_value_is_the_first_line_without_trailing_spaces_or_line_end(void**) {
    if (::geteuid() != 0) skip();  // needs files owned by root
    assert_string_equal(read_value(write_file("lf", "pass word\n")).c_str(), "pass word");
    assert_string_equal(read_value(write_file("crlf", "pass word\r\n")).c_str(), "pass word");
    assert_string_equal(read_value(write_file("spaces", "pass word  \r\nnext\n")).c_str(),
                        "pass word");
    assert_string_equal(read_value(write_file("bare", "  lead")).c_str(), "  lead");
    assert_string_equal(read_value(write_file("empty", "")).c_str(), "");
}

static void a_file_others_may_read_or_root_does_not_own_is_refused(void**) {
    if (::geteuid() != 0) skip();  // needs files owned by root
    for (const mode_t mode : {0640, 0604, 0620, 0602}) {
        assert_refused(write_file("shared", "x\n", mode), totp::Errc::unsafe,
                       "is accessible by group or other, refusing (keep it owned by root, "
                       "chmod 600)");
    }
    const std::string owned = write_file("owned", "x\n");
    assert_int_equal(::chown(owned.c_str(), 1000, 1000), 0);
    assert_refused(owned, totp::Errc::unsafe, "is not owned by root");
}

static void a_symlink_a_directory_a_nul_or_a_large_file_is_refused(void**) {
    if (::geteuid() != 0) skip();  // needs files owned by root
    const std::string target = write_file("target", "x\n");
    const std::string link = g_dir + "/link";
    assert_int_equal(::symlink(target.c_str(), link.c_str()), 0);
    assert_refused(link, totp::Errc::unsafe, "is a symlink");
    assert_refused(g_dir, totp::Errc::unsafe, "is not a regular file");
    assert_refused(write_file("nul", std::string_view("pass\0word\n", 10)),
                   totp::Errc::invalid_argument, "NUL");
    assert_refused(write_file("large", std::string(totp::kMaxSecretFileSize + 1, 'a')),
                   totp::Errc::unsafe, "is too large");
    assert_refused(g_dir + "/missing", totp::Errc::io, "No such file");
}

static void a_file_to_load_may_be_read_by_others_but_not_written(void**) {
    if (::geteuid() != 0) skip();  // needs files owned by root
    const std::string path = write_file("module", "x", 0644);
    assert_true(totp::open_root_file("test file", path, totp::RootFile::not_writable).ok());
    assert_false(totp::open_root_file("test file", path, totp::RootFile::secret).ok());
    assert_int_equal(::chmod(path.c_str(), 0664), 0);
    const auto opened = totp::open_root_file("test file", path, totp::RootFile::not_writable);
    assert_false(opened.ok());
    assert_int_equal(opened.error().code, totp::Errc::unsafe);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_value_is_the_first_line_without_trailing_spaces_or_line_end),
        cmocka_unit_test(a_file_others_may_read_or_root_does_not_own_is_refused),
        cmocka_unit_test(a_symlink_a_directory_a_nul_or_a_large_file_is_refused),
        cmocka_unit_test(a_file_to_load_may_be_read_by_others_but_not_written),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
