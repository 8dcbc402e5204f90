#include "accounts.hpp"

#include <pwd.h>
#include <shadow.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace resetd {
namespace {

constexpr uid_t kDefaultUidMin = 1000;
constexpr std::size_t kMaxBuffer = 1 << 20;

// Calls a *_r lookup with a growing buffer; true if an entry was found.
template <class Entry, class Lookup>
bool lookup(const std::string& name, Entry& entry, std::vector<char>& buffer, Lookup call) {
    Entry* found = nullptr;
    buffer.resize(4096);
    int error;
    while ((error = call(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
           buffer.size() < kMaxBuffer) {
        buffer.resize(buffer.size() * 2);
    }
    return error == 0 && found != nullptr;
}

bool is_locked_hash(const char* hash) {
    return hash == nullptr || hash[0] == '!' || hash[0] == '*';
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
    std::vector<char> buffer;
    passwd account{};
    if (!lookup(user, account, buffer, ::getpwnam_r)) return Eligibility::unknown;
    if (account.pw_uid < uid_min) return Eligibility::system_account;

    spwd shadow{};
    if (!lookup(user, shadow, buffer, ::getspnam_r) || is_locked_hash(shadow.sp_pwdp)) {
        return Eligibility::locked;
    }
    const std::int64_t today = now / 86400;
    if (shadow.sp_expire >= 0 && shadow.sp_expire <= today) return Eligibility::expired;
    return Eligibility::eligible;
}

}  // namespace resetd
