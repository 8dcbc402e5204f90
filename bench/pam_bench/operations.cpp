// SPDX-License-Identifier: Apache-2.0
#include "operations.hpp"

#include <fcntl.h>
#include <security/pam_appl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace bench {
namespace {

int answer_with_code(int count, const pam_message** messages, pam_response** responses,
                     void* data) {
    const auto* code = static_cast<const std::string*>(data);
    auto* replies = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (replies == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const int style = messages[i]->msg_style;
        if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) continue;
        replies[i].resp = strdup(code->c_str());
        if (replies[i].resp == nullptr) {
            for (int j = 0; j < i; ++j) std::free(replies[j].resp);
            std::free(replies);
            return PAM_BUF_ERR;
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
}

}  // namespace

int pam_login(const char* service, const char* user, const std::string& code) {
    const pam_conv conversation{answer_with_code, const_cast<std::string*>(&code)};
    pam_handle_t* handle = nullptr;
    int rc = pam_start(service, user, &conversation, &handle);
    if (rc != PAM_SUCCESS) return rc;
    rc = pam_authenticate(handle, 0);
    pam_end(handle, rc);
    return rc;
}

bool durable_update(const std::string& path, std::uint64_t counter) {
    constexpr std::size_t kRecord = 512;
    constexpr off_t kSlot = 4096;
    const int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    std::array<char, kRecord> record{};
    const off_t offset = static_cast<off_t>(counter % 2) * kSlot;
    bool ok =
        ::flock(fd, LOCK_EX) == 0 && ::pread(fd, record.data(), record.size(), kSlot - offset) ==
                                         static_cast<ssize_t>(record.size());
    std::memcpy(record.data(), &counter, sizeof counter);
    ok =
        ok &&
        ::pwrite(fd, record.data(), record.size(), offset) == static_cast<ssize_t>(record.size()) &&
        ::fdatasync(fd) == 0;
    return ::close(fd) == 0 && ok;
}

}  // namespace bench
