// SPDX-License-Identifier: Apache-2.0
#include "totp/username.hpp"

#include <string>

#include "totp/text.hpp"

namespace totp {

Status check_username(std::string_view user) {
    if (user.empty()) return make_error(Errc::unsafe, "refused user name: empty");
    if (user.size() > kMaxUsernameLength) {
        return make_error(Errc::unsafe, "refused user name: longer than " +
                                            std::to_string(kMaxUsernameLength) + " bytes");
    }
    if (user.front() == '.') return make_error(Errc::unsafe, "refused user name: starts with '.'");
    if (user.find('/') != std::string_view::npos) {
        return make_error(Errc::unsafe, "refused user name: contains '/'");
    }
    if (has_control(user)) {
        return make_error(Errc::unsafe, "refused user name: contains a control character");
    }
    return {};
}

}  // namespace totp
