// SPDX-License-Identifier: Apache-2.0
#include "totp/reset_settings.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <optional>
#include <variant>

#include "config_file.hpp"
#include "totp/mail.hpp"
#include "totp/text.hpp"

namespace totp {

using detail::parse_int;

namespace {

constexpr std::size_t kMaxUrlLength = 200;
constexpr std::size_t kMaxPathLength = 4095;
constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxSubjectLength = 200;

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_loopback_host(std::string_view host) {
    if (host == "localhost" || host == "[::1]") return true;
    in_addr address{};
    const std::string text(host);
    return ::inet_pton(AF_INET, text.c_str(), &address) == 1 &&
           (ntohl(address.s_addr) >> 24) == 127;
}

// https://host[:port][/path], or http:// for a loopback host only (tests, a local proxy).
// No user info, query or fragment; only characters that need no escaping in HTML or mail.
// Empty means "not set" (reported as missing by load_reset_settings).
bool is_base_url(std::string_view value) {
    if (value.empty()) return true;
    if (value.size() > kMaxUrlLength) return false;
    std::string_view rest;
    bool plain = false;
    if (value.starts_with("https://")) {
        rest = value.substr(8);
    } else if (value.starts_with("http://")) {
        rest = value.substr(7);
        plain = true;
    } else {
        return false;
    }
    for (char c : rest) {
        if (!is_alnum(c) && std::string_view("-._~/:[]%").find(c) == std::string_view::npos) {
            return false;
        }
    }
    const std::string_view authority = rest.substr(0, rest.find('/'));
    if (authority.empty() || authority.starts_with(':')) return false;
    std::string_view host = authority;
    if (const std::size_t colon = authority.rfind(':');
        colon != std::string_view::npos && !authority.substr(colon).ends_with(']')) {
        host = authority.substr(0, colon);
        if (!parse_int(authority.substr(colon + 1), 1, 65535)) return false;
    }
    return !plain || is_loopback_host(host);
}

// The shape useradd accepts for system accounts.
bool is_account_name(std::string_view value) {
    if (value.empty() || value.size() > 32 || value.front() == '-') return false;
    for (char c : value) {
        if (!is_alnum(c) && c != '_' && c != '-' && c != '.') return false;
    }
    return value.front() != '.';
}

bool is_absolute_path(std::string_view value) {
    if (!value.starts_with('/') || value.size() > kMaxPathLength || has_control(value)) {
        return false;
    }
    return value.find("/../") == std::string_view::npos && !value.ends_with("/..");
}

bool is_group_or_empty(std::string_view value) {
    return value.empty() || is_account_name(value);
}

bool is_path_or_empty(std::string_view value) {
    return value.empty() || is_absolute_path(value);
}

std::optional<std::pair<std::string, int>> split_listen(std::string_view value) {
    const std::size_t colon = value.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto port = parse_int(value.substr(colon + 1), 1, 65535);
    std::string_view host = value.substr(0, colon);
    if (!port) return std::nullopt;
    if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
    return std::make_pair(std::string(host), *port);
}

// The longest path a sockaddr_un holds with its terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;

bool is_listen_address(std::string_view value) {
    if (value.starts_with("unix:")) {
        const std::string_view path = value.substr(5);
        return is_absolute_path(path) && path.size() <= kMaxSocketPath && !path.ends_with('/');
    }
    const auto parts = split_listen(value);
    if (!parts) return false;
    std::array<unsigned char, 16> address{};
    return ::inet_pton(AF_INET, parts->first.c_str(), address.data()) == 1 ||
           (value.starts_with('[') &&
            ::inet_pton(AF_INET6, parts->first.c_str(), address.data()) == 1);
}

bool is_site_name(std::string_view value) {
    return value.size() <= kMaxNameLength && !has_control(value);
}

bool is_header_name_or_empty(std::string_view value) {
    if (value.size() > kMaxNameLength) return false;
    for (char c : value) {
        if (!is_alnum(c) && c != '-') return false;
    }
    return true;
}

bool is_address_prefix_list(std::string_view value) {
    return parse_address_prefixes(value).has_value();
}

// Group names in the shape groupadd accepts, separated by spaces; empty: no group.
bool is_group_list(std::string_view value) {
    if (value.size() > kMaxPathLength || has_control(value)) return false;
    for (const std::string& name : split_names(value)) {
        if (!is_account_name(name)) return false;
    }
    return true;
}

bool is_subject(std::string_view value) {
    return !value.empty() && value.size() <= kMaxSubjectLength && !has_control(value);
}

struct IntKey {
    int& (*field)(ResetSettings&);
    int min;
    int max;
};

struct TextKey {
    std::string& (*field)(ResetSettings&);
    bool (*valid)(std::string_view);
    std::string_view expected;
};

struct Key {
    std::string_view name;
    std::variant<IntKey, TextKey> kind;
};

// clang-format off
constexpr Key kKeys[] = {
    {"base_url", TextKey{[](ResetSettings& s) -> std::string& { return s.base_url; }, is_base_url,
        "https://host[:port][/path], or http:// to a loopback host"}},
    {"listen", TextKey{[](ResetSettings& s) -> std::string& { return s.listen; },
        is_listen_address, "IPv4:PORT, [IPv6]:PORT or unix:/absolute/path"}},
    {"listen_group", TextKey{[](ResetSettings& s) -> std::string& { return s.listen_group; },
        is_group_or_empty, "a group name or nothing"}},
    {"user", TextKey{[](ResetSettings& s) -> std::string& { return s.user; }, is_account_name,
        "an account name"}},
    {"chroot_dir", TextKey{[](ResetSettings& s) -> std::string& { return s.chroot_dir; },
        is_path_or_empty, "an absolute path without '..', or nothing"}},
    {"site_name", TextKey{[](ResetSettings& s) -> std::string& { return s.site_name; },
        is_site_name, "0-64 characters, no control characters"}},
    {"client_ip_header", TextKey{[](ResetSettings& s) -> std::string& {
        return s.client_ip_header; }, is_header_name_or_empty, "a header name or nothing"}},
    {"trusted_proxies", TextKey{[](ResetSettings& s) -> std::string& {
        return s.trusted_proxies; }, is_address_prefix_list,
        "addresses, ADDRESS/BITS prefixes or unix, or nothing"}},
    {"token_lifetime", IntKey{[](ResetSettings& s) -> int& { return s.token_lifetime; },
        10, 86400}},
    {"max_connections", IntKey{[](ResetSettings& s) -> int& { return s.max_connections; },
        1, 1024}},
    {"connection_timeout", IntKey{[](ResetSettings& s) -> int& {
        return s.connection_timeout; }, 1, 600}},
    {"max_body", IntKey{[](ResetSettings& s) -> int& { return s.max_body; }, 512, 65536}},
    {"requests_per_ip", IntKey{[](ResetSettings& s) -> int& { return s.requests_per_ip; },
        1, 100000}},
    {"mails_per_account", IntKey{[](ResetSettings& s) -> int& { return s.mails_per_account; },
        1, 100}},
    {"failures_per_ip", IntKey{[](ResetSettings& s) -> int& { return s.failures_per_ip; },
        1, 100000}},
    {"reset_subject", TextKey{[](ResetSettings& s) -> std::string& { return s.reset_subject; },
        is_subject, "1-200 characters, no control characters"}},
    {"changed_subject", TextKey{[](ResetSettings& s) -> std::string& {
        return s.changed_subject; }, is_subject, "1-200 characters, no control characters"}},
    {"template_dir", TextKey{[](ResetSettings& s) -> std::string& { return s.template_dir; },
        is_path_or_empty, "an absolute path without '..', or nothing"}},
    {"reset_exclude_groups", TextKey{[](ResetSettings& s) -> std::string& {
        return s.reset_exclude_groups; }, is_group_list,
        "group names separated by spaces, or nothing"}},
};
// clang-format on

bool assign(const IntKey& key, ResetSettings& settings, std::string_view value) {
    const auto number = parse_int(value, key.min, key.max);
    if (number) key.field(settings) = *number;
    return number.has_value();
}

bool assign(const TextKey& key, ResetSettings& settings, std::string_view value) {
    if (!key.valid(value)) return false;
    key.field(settings) = value;
    return true;
}

std::string expected(const IntKey& key) {
    return std::to_string(key.min) + "-" + std::to_string(key.max);
}

std::string expected(const TextKey& key) {
    return std::string(key.expected);
}

}  // namespace

void apply_reset_setting(ResetSettings& settings, std::string_view key, std::string_view value,
                         std::vector<ConfigProblem>& problems) {
    for (std::string_view mail_key : mail_setting_names()) {
        if (key == mail_key) return;  // load_mail_settings reads these
    }
    for (const Key& entry : kKeys) {
        if (entry.name != key) continue;
        const bool ok =
            std::visit([&](const auto& kind) { return assign(kind, settings, value); }, entry.kind);
        if (!ok) {
            const std::string wanted =
                std::visit([](const auto& kind) { return expected(kind); }, entry.kind);
            problems.push_back({"bad value for '" + std::string(key) + "' in [reset]: '" +
                                    printable(value) + "' (expected " + wanted + ")",
                                true});
        }
        return;
    }
    problems.push_back({"unknown setting '" + printable(key) + "' in [reset]", false});
}

void load_reset_settings(const std::string& path, ResetSettings& settings,
                         std::vector<ConfigProblem>& problems) {
    const auto dict = detail::load_trusted_dictionary(path, false, problems);
    if (dict) {
        for (ssize_t i = 0; i < dict->size; ++i) {
            if (dict->key[i] == nullptr || dict->val[i] == nullptr) continue;
            const std::string_view entry = dict->key[i];
            if (!entry.starts_with("reset:")) continue;
            apply_reset_setting(settings, entry.substr(6), dict->val[i], problems);
        }
    }
    if (settings.base_url.empty()) {
        problems.push_back({"base_url is not set in [reset]: links need it", true});
    }
}

std::vector<std::string> split_names(std::string_view list) {
    constexpr std::string_view kSpaces = " ";
    std::vector<std::string> names;
    for (std::size_t start = list.find_first_not_of(kSpaces); start != std::string_view::npos;
         start = list.find_first_not_of(kSpaces, start)) {
        const std::size_t end = std::min(list.find_first_of(kSpaces, start), list.size());
        names.emplace_back(list.substr(start, end - start));
        start = end;
    }
    return names;
}

std::vector<std::string_view> reset_setting_names() {
    std::vector<std::string_view> names;
    for (const Key& key : kKeys) names.push_back(key.name);
    return names;
}

}  // namespace totp
