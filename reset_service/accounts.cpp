// SPDX-License-Identifier: Apache-2.0
#include "accounts.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "totp/account.hpp"

namespace resetd {
namespace {

constexpr uid_t kDefaultUidMin = 1000;

}  // namespace

const char* describe(Eligibility eligibility) {
    switch (eligibility) {
        case Eligibility::eligible:
            return "eligible";
        case Eligibility::unknown:
            return "no such user";
        case Eligibility::system_account:
            return "a system account";
        case Eligibility::locked:
            return "the password is locked";
        case Eligibility::expired:
            return "the account has expired";
    }
    return "?";
}

uid_t read_uid_min(const char* login_defs) {
    std::ifstream in(login_defs);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key, value;
        if (!(words >> key >> value) || key != "UID_MIN") continue;
        uid_t uid = 0;
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), uid);
        if (error == std::errc{} && end == value.data() + value.size()) return uid;
    }
    return kDefaultUidMin;
}

Eligibility check_account(std::string_view user_view, uid_t uid_min, std::int64_t now) {
    const std::string user(user_view);
    const totp::Result<totp::Account> account = totp::find_account(user);
    if (!account) return Eligibility::unknown;
    if (account->uid < uid_min) return Eligibility::system_account;

    // No shadow entry, or one that cannot be read, counts as locked: a reset must not
    // unlock it.
    const totp::Result<totp::PasswordStatus> password = totp::find_password_status(user);
    if (!password || password->locked) return Eligibility::locked;
    const std::int64_t today = now / 86400;
    if (password->expires >= 0 && password->expires <= today) return Eligibility::expired;
    return Eligibility::eligible;
}

}  // namespace resetd
