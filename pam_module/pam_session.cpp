// SPDX-License-Identifier: Apache-2.0
#include "pam_session.hpp"

#include <security/pam_ext.h>
#include <syslog.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "totp/text.hpp"
#include "totp/username.hpp"

namespace pam_totp {
namespace {

constexpr const char* kForwardedCodeName = "pam_totp_forwarded_code";
// A user or host name in a log line: as long as the longest user name the module accepts
// (a DNS name is shorter still).
constexpr std::size_t kMaxLoggedItem = totp::kMaxUsernameLength;

struct ForwardedCode {
    totp::SecretString code;
    std::string user;             // PAM_USER of the attempt that split it
    totp::SecretString password;  // what that attempt set as PAM_AUTHTOK
    bool taken = false;
};

// Runs at pam_end(), or when a new attempt replaces the kept code: a code that a
// forward_pass line kept but no pam_totp line took, in a stack that then succeeded, means
// the second factor was never checked.
void release_forwarded_code(pam_handle_t* pamh, void* data, int error_status) {
    std::unique_ptr<ForwardedCode> kept(static_cast<ForwardedCode*>(data));
    if ((error_status & PAM_DATA_REPLACE) != 0) return;
    const int status = error_status & ~PAM_DATA_SILENT;
    if (!kept->taken && status == PAM_SUCCESS) {
        pam_syslog(pamh, LOG_CRIT,
                   "forward_pass split a code off the password but no later pam_totp line "
                   "checked it: this stack does not ask for the second factor (see pam_totp(8))");
    }
}

}  // namespace

int PamSession::fetch_user() {
    const char* name = nullptr;
    const int rc = pam_get_user(pamh_, &name, nullptr);
    if (rc != PAM_SUCCESS) return rc;
    if (name == nullptr || *name == '\0') return PAM_USER_UNKNOWN;
    user_ = name;
    return PAM_SUCCESS;
}

std::string PamSession::remote_host() const {
    const void* value = nullptr;
    if (pam_get_item(pamh_, PAM_RHOST, &value) != PAM_SUCCESS || value == nullptr) return "";
    return static_cast<const char*>(value);
}

std::optional<totp::SecretString> PamSession::ask_hidden(const std::string& prompt) {
    char* response = nullptr;
    const int rc = pam_prompt(pamh_, PAM_PROMPT_ECHO_OFF, &response, "%s", prompt.c_str());
    if (rc != PAM_SUCCESS || response == nullptr) {
        if (response != nullptr) {
            totp::wipe(response, std::strlen(response));
            std::free(response);
        }
        return std::nullopt;
    }
    totp::SecretString answer(response);
    totp::wipe(response, std::strlen(response));
    std::free(response);
    return answer;
}

void PamSession::inform(const std::string& text) const {
    if (!silent_) static_cast<void>(pam_info(pamh_, "%s", text.c_str()));
}

void PamSession::warn(const std::string& text) const {
    if (!silent_) static_cast<void>(pam_error(pamh_, "%s", text.c_str()));
}

std::optional<totp::SecretString> PamSession::authtok() const {
    const void* value = nullptr;
    if (pam_get_item(pamh_, PAM_AUTHTOK, &value) != PAM_SUCCESS || value == nullptr) {
        return std::nullopt;
    }
    return totp::SecretString(static_cast<const char*>(value));
}

bool PamSession::set_authtok(const totp::SecretString& value) {
    return pam_set_item(pamh_, PAM_AUTHTOK, value.c_str()) == PAM_SUCCESS;
}

bool PamSession::keep_forwarded_code(totp::SecretString code, const totp::SecretString& password) {
    auto kept = std::make_unique<ForwardedCode>();
    kept->code = std::move(code);
    kept->user = user_;
    kept->password.append(password.view());
    // Replaces (and frees) a code an earlier attempt on this handle may have kept.
    if (pam_set_data(pamh_, kForwardedCodeName, kept.get(), release_forwarded_code) !=
        PAM_SUCCESS) {
        return false;
    }
    static_cast<void>(kept.release());  // the handle owns it now: release_forwarded_code frees it
    return true;
}

PamSession::Forwarded PamSession::take_forwarded_code(totp::SecretString& code) {
    const void* data = nullptr;
    if (pam_get_data(pamh_, kForwardedCodeName, &data) != PAM_SUCCESS || data == nullptr) {
        return Forwarded::none;
    }
    auto* kept = static_cast<ForwardedCode*>(const_cast<void*>(data));
    if (kept->taken) return Forwarded::stale;
    kept->taken = true;
    // libpam clears PAM_AUTHTOK between pam_authenticate() calls, but not module data: a
    // code kept by an attempt whose password was refused must not be checked in the next.
    const std::optional<totp::SecretString> password = authtok();
    const bool same_attempt = kept->user == user_ && password &&
                              totp::equal_constant_time(password->view(), kept->password.view());
    if (!same_attempt) return Forwarded::stale;
    code = std::move(kept->code);
    return Forwarded::code;
}

std::string PamSession::item(int type) const {
    const void* value = nullptr;
    if (pam_get_item(pamh_, type, &value) != PAM_SUCCESS || value == nullptr) return "";
    return totp::printable(static_cast<const char*>(value), kMaxLoggedItem);
}

void PamSession::log(int priority, const std::string& what) const {
    const std::string rhost = item(PAM_RHOST);
    const std::string typed = account_.empty() || account_ == user_
                                  ? ""
                                  : " login_name=" + totp::printable(user_, kMaxLoggedItem);
    const std::string& account = account_.empty() ? user_ : account_;
    pam_syslog(pamh_, priority, "%s for user %s (service=%s rhost=%s%s)", what.c_str(),
               totp::printable(account, kMaxLoggedItem).c_str(), item(PAM_SERVICE).c_str(),
               rhost.empty() ? "-" : rhost.c_str(), typed.c_str());
}

void PamSession::log_plain(int priority, const std::string& what) const {
    pam_syslog(pamh_, priority, "%s", what.c_str());
}

}  // namespace pam_totp
