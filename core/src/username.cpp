#include "totp/username.hpp"

#include <string>

namespace totp {

Status check_username(std::string_view user) {
    if (user.empty()) return make_error(Errc::unsafe, "refused user name: empty");
    if (user.size() > kMaxUsernameLength) {
        return make_error(Errc::unsafe, "refused user name: longer than " +
                                            std::to_string(kMaxUsernameLength) + " bytes");
    }
    if (user.front() == '.') return make_error(Errc::unsafe, "refused user name: starts with '.'");
    for (char c : user) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == '/') return make_error(Errc::unsafe, "refused user name: contains '/'");
        if (byte < 0x20 || byte == 0x7f) {
            return make_error(Errc::unsafe, "refused user name: contains a control character");
        }
    }
    return {};
}

}  // namespace totp
