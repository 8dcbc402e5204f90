// SPDX-License-Identifier: Apache-2.0
#include "login_stacks.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "module_model.hpp"

namespace totp_check {
namespace {

constexpr std::array<const char*, 5> kLoginFiles = {"sshd", "login", "su", "sudo", "system-auth"};

std::optional<std::size_t> first_password_line(const Stack& stack) {
    for (std::size_t i = 0; i < stack.handlers.size(); ++i) {
        const Handler& handler = stack.handlers[i];
        if (handler.kind == HandlerKind::module && role_of(handler) == Role::password) return i;
    }
    return std::nullopt;
}

// The line of the stack's own file after which pam_totp goes: the last one, from the first
// password module on, that checks the password or ends its block (pam_deny, pam_permit), or
// includes such lines; 0 when the file has none.
int insertion_line(const Stack& stack) {
    const std::optional<std::size_t> first = first_password_line(stack);
    if (!first) return 0;
    int line = 0;
    for (std::size_t i = *first; i < stack.handlers.size(); ++i) {
        const Handler& handler = stack.handlers[i];
        if (handler.kind != HandlerKind::module) continue;
        const Role role = role_of(handler);
        if (role != Role::password && role != Role::deny && role != Role::permit) continue;
        line = std::max(line, handler.via.empty() ? handler.source.line : handler.via[0].line);
    }
    return line;
}

}  // namespace

std::vector<LoginStack> login_stacks(const PamConfigDir& dir) {
    std::vector<LoginStack> stacks;
    const auto add = [&](const std::string& name) {
        const std::string path = dir.find(name);
        if (path.empty()) return;
        const Stack stack = load_file_auth_stack(dir, name, nullptr);
        stacks.push_back(LoginStack{name, dir.without_root(path), runs_totp_after_password(stack),
                                    insertion_line(stack)});
    };
    // Every Debian login service includes common-auth, and pam-auth-update writes it.
    add("common-auth");
    if (!stacks.empty()) return stacks;
    for (const char* name : kLoginFiles) add(name);
    return stacks;
}

bool runs_totp_after_password(const Stack& stack) {
    const std::optional<std::size_t> first = first_password_line(stack);
    if (!first) return false;
    return std::any_of(stack.handlers.begin() + static_cast<std::ptrdiff_t>(*first),
                       stack.handlers.end(), [](const Handler& handler) {
                           // A pam_totp.so that is not installed fails every login (a
                           // different finding); it does not let them in without a code.
                           return (handler.kind == HandlerKind::module ||
                                   handler.kind == HandlerKind::unloadable) &&
                                  role_of(handler) == Role::totp_check;
                       });
}

bool no_login_stack_runs_totp(const std::vector<LoginStack>& stacks) {
    return !stacks.empty() && std::none_of(stacks.begin(), stacks.end(),
                                           [](const LoginStack& stack) { return stack.runs_totp; });
}

std::string how_to_add_totp(const LoginStack& login) {
    const int line = login.insert_after;
    return "add the line '" + std::string(kTotpAuthLine) + "' to " + login.path +
           (line > 0 ? " after line " + std::to_string(line) + " (the end of the password block)"
                     : " after the lines that check the password");
}

}  // namespace totp_check
