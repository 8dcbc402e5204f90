// The PAM handle, seen through what the module needs: who is logging in, asking them
// for a code, the PAM_AUTHTOK item, and syslog lines carrying user, service and rhost.
#pragma once

#include <security/pam_modules.h>

#include <optional>
#include <string>

#include "totp/secret.hpp"

namespace pam_totp {

class PamSession {
  public:
    explicit PamSession(pam_handle_t* pamh) : pamh_(pamh) {}

    // PAM_SUCCESS and the user name, or the error pam_get_user returned.
    int fetch_user();
    const std::string& user() const { return user_; }

    // Asks with echo off; nullopt if the conversation failed or returned nothing.
    std::optional<totp::SecretString> ask_hidden(const std::string& prompt);

    std::optional<totp::SecretString> authtok() const;
    bool set_authtok(const totp::SecretString& value);

    // One syslog line (LOG_AUTHPRIV) "<what> for user X (service=Y rhost=Z)".
    void log(int priority, const std::string& what) const;
    void log_plain(int priority, const std::string& what) const;

  private:
    std::string item(int type) const;

    pam_handle_t* pamh_;
    std::string user_;
};

}  // namespace pam_totp
