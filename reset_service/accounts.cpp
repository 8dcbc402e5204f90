#include "accounts.hpp"

#include <shadow.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "totp/account.hpp"

namespace resetd {
namespace {

constexpr uid_t kDefaultUidMin = 1000;

bool is_locked_hash(const char* hash) {
    return hash == nullptr || hash[0] == '!' || hash[0] == '*';
}

constexpr std::size_t kMaxBuffer = 1 << 20;

// What a reset needs from the shadow entry. No entry, or one that cannot be read, counts
// as locked: a reset must not unlock it.
struct Shadow {
    bool locked = true;
    long expire = -1;  // days since the epoch; -1: never
};

Shadow read_shadow(const std::string& name) {
    std::vector<char> buffer(4096);
    for (;;) {
        spwd entry{};
        spwd* found = nullptr;
        const int error = ::getspnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < kMaxBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (error != 0 || found == nullptr) return Shadow{};
        return Shadow{is_locked_hash(entry.sp_pwdp), entry.sp_expire};
    }
}

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

    const Shadow shadow = read_shadow(user);
    if (shadow.locked) return Eligibility::locked;
    const std::int64_t today = now / 86400;
    if (shadow.expire >= 0 && shadow.expire <= today) return Eligibility::expired;
    return Eligibility::eligible;
}

}  // namespace resetd
