#include "pam_session.hpp"

#include <security/pam_ext.h>
#include <syslog.h>

#include <cstdlib>
#include <cstring>

namespace pam_totp {
namespace {

// Strips anything that could forge or split a log line (remote host names come from
// the network).
std::string printable(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
    return out;
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

std::string PamSession::item(int type) const {
    const void* value = nullptr;
    if (pam_get_item(pamh_, type, &value) != PAM_SUCCESS || value == nullptr) return "";
    return printable(static_cast<const char*>(value));
}

void PamSession::log(int priority, const std::string& what) const {
    const std::string rhost = item(PAM_RHOST);
    pam_syslog(pamh_, priority, "%s for user %s (service=%s rhost=%s)", what.c_str(),
               printable(user_).c_str(), item(PAM_SERVICE).c_str(),
               rhost.empty() ? "-" : rhost.c_str());
}

void PamSession::log_plain(int priority, const std::string& what) const {
    pam_syslog(pamh_, priority, "%s", what.c_str());
}

}  // namespace pam_totp
