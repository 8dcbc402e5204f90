// SPDX-License-Identifier: Apache-2.0
#include "totp/config.hpp"

#include <iniparser.h>

#include <charconv>
#include <optional>
#include <variant>

#include "config_file.hpp"
#include "totp/address_prefix.hpp"
#include "totp/rollout.hpp"
#include "totp/text.hpp"
#include "totp/unique_fd.hpp"
#include "totp/user_state.hpp"

namespace totp {

using detail::parse_int;

namespace {

constexpr std::size_t kMaxPathLength = 4095;
constexpr std::size_t kMaxPromptLength = 128;
constexpr std::size_t kMaxIssuerLength = 128;

// --- Text checks -------------------------------------------------------------------------

bool has_dotdot_component(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (path.substr(start, end - start) == "..") return true;
        start = end + 1;
    }
    return false;
}

bool is_safe_path(std::string_view path) {
    return path.size() <= kMaxPathLength && !has_control(path) && !has_dotdot_component(path);
}

bool is_state_dir(std::string_view value) {
    return value.starts_with('/') && is_safe_path(value);
}

// "%u" (the user name) is the only documented expansion; any other '%' is refused, not guessed at.
bool has_only_user_escapes(std::string_view value) {
    for (std::size_t i = value.find('%'); i != std::string_view::npos; i = value.find('%', i + 2)) {
        if (i + 1 >= value.size() || value[i + 1] != 'u') return false;
    }
    return true;
}

// Empty (the default) is accepted wherever it means "not set", so that uncommenting a
// default line from the shipped file, or clearing a file setting with a module argument,
// is never a bad value.
bool is_secret_path_or_empty(std::string_view value) {
    if (value.empty()) return true;
    return (value.starts_with('/') || value.starts_with("~/")) && is_safe_path(value) &&
           has_only_user_escapes(value);
}

bool is_store_kind(std::string_view value) {
    return value == "files" || value == "postgresql";
}

bool is_dsn_or_empty(std::string_view value) {
    return value.size() <= kMaxPathLength && !has_control(value);
}

bool is_absolute_path_or_empty(std::string_view value) {
    return value.empty() || (value.starts_with('/') && is_safe_path(value));
}

// Names separated by commas and/or spaces.
bool is_user_list(std::string_view value) {
    return value.size() <= kMaxPathLength && !has_control(value) &&
           value.find('/') == std::string_view::npos;
}

bool is_group_name_or_empty(std::string_view value) {
    return !has_control(value) && value.find_first_of(" /") == std::string_view::npos;
}

bool is_network_list(std::string_view value) {
    return value.size() <= kMaxPathLength && parse_network_prefixes(value).has_value();
}

bool is_prompt(std::string_view value) {
    return !value.empty() && value.size() <= kMaxPromptLength && !has_control(value);
}

bool is_issuer(std::string_view value) {
    return value.size() <= kMaxIssuerLength && !has_control(value);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::optional<bool> parse_bool(std::string_view value) {
    if (value.empty()) return true;  // a bare module flag
    for (std::string_view yes : {"1", "yes", "true", "on"}) {
        if (equals_ignoring_case(value, yes)) return true;
    }
    for (std::string_view no : {"0", "no", "false", "off"}) {
        if (equals_ignoring_case(value, no)) return false;
    }
    return std::nullopt;
}

// --- The table of settings ---------------------------------------------------------------

struct IntKey {
    int& (*field)(Settings&);
    int min;
    int max;
};

struct BoolKey {
    bool& (*field)(Settings&);
};

struct TextKey {
    std::string& (*field)(Settings&);
    bool (*valid)(std::string_view);
    std::string_view expected;
    bool may_hold_password = false;  // a bad value is reported without being echoed
};

struct AlgorithmKey {};

// nullok: remembered as set, so that the rollout file can only fill in what it leaves open.
struct NullokKey {};

struct Key {
    std::string_view name;
    bool security_relevant;  // a bad value must deny logins rather than fall back
    std::variant<IntKey, BoolKey, TextKey, AlgorithmKey, NullokKey> kind;
};

constexpr bool kSecurity = true;
constexpr bool kOther = false;

// clang-format off
constexpr Key kKeys[] = {
    // Store
    {"state_dir", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.state_dir; }, is_state_dir,
             "an absolute path without '..'"}},
    {"secret_path", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.secret_path; }, is_secret_path_or_empty,
             "empty, or an absolute or ~/ path without '..', %u for the user"}},
    {"store", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.store; }, is_store_kind,
             "files or postgresql"}},
    {"store_dsn", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.store_dsn; }, is_dsn_or_empty,
             "a libpq connection string without control characters", true}},
    {"store_password_file", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.store_password_file; },
             is_absolute_path_or_empty, "empty, or an absolute path without '..'"}},
    {"store_key_file", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.store_key_file; },
             is_absolute_path_or_empty, "an absolute path without '..'"}},
    {"store_connect_timeout", kSecurity,
     IntKey{[](Settings& s) -> int& { return s.store_connect_timeout; }, 1, 60}},
    {"store_fallback_users", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.store_fallback_users; }, is_user_list,
             "user names separated by commas or spaces"}},
    // Verification policy
    {"window", kSecurity,
     IntKey{[](Settings& s) -> int& { return s.window; }, 0, 10}},
    {"hotp_window", kSecurity,
     IntKey{[](Settings& s) -> int& { return s.hotp_window; }, 0, 100}},
    {"max_failures", kSecurity,
     IntKey{[](Settings& s) -> int& { return s.max_failures; }, 1, 1000}},
    {"lockout_seconds", kSecurity,
     IntKey{[](Settings& s) -> int& { return s.lockout_seconds; }, 1, 86400}},
    {"nullok", kSecurity,
     NullokKey{}},
    {"require_group", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.require_group; }, is_group_name_or_empty,
             "a group name or nothing"}},
    {"exempt_group", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.exempt_group; }, is_group_name_or_empty,
             "a group name or nothing"}},
    {"trusted_networks", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.trusted_networks; }, is_network_list,
             "IPv4 or IPv6 addresses or ADDRESS/BITS networks, or nothing"}},
    {"verify_helper_group", kSecurity,
     TextKey{[](Settings& s) -> std::string& { return s.verify_helper_group; },
             is_group_name_or_empty, "a group name or nothing"}},
    // Conversation
    {"prompt", kOther,
     TextKey{[](Settings& s) -> std::string& { return s.prompt; }, is_prompt,
             "1-128 characters, no control characters"}},
    {"forward_pass", kOther,
     BoolKey{[](Settings& s) -> bool& { return s.forward_pass; }}},
    {"try_first_pass", kOther,
     BoolKey{[](Settings& s) -> bool& { return s.try_first_pass; }}},
    {"use_first_pass", kOther,
     BoolKey{[](Settings& s) -> bool& { return s.use_first_pass; }}},
    {"debug", kOther,
     BoolKey{[](Settings& s) -> bool& { return s.debug; }}},
    // Enrollment defaults
    {"issuer", kOther,
     TextKey{[](Settings& s) -> std::string& { return s.issuer; }, is_issuer,
             "0-128 characters, no control characters"}},
    {"algorithm", kOther,
     AlgorithmKey{}},
    {"digits", kOther,
     IntKey{[](Settings& s) -> int& { return s.params.digits; }, kMinDigits, kMaxDigits}},
    {"period", kOther,
     IntKey{[](Settings& s) -> int& { return s.params.period; }, kMinPeriod, kMaxPeriod}},
    {"recovery_codes", kOther,
     IntKey{[](Settings& s) -> int& { return s.recovery_codes; }, 0, 20}},
    {"max_authenticators", kOther,
     IntKey{[](Settings& s) -> int& { return s.max_authenticators; }, 1,
            static_cast<int>(kMaxAuthenticators)}},
};
// clang-format on

// Each assign() stores the value and returns true, or leaves `settings` alone and returns
// false; expected() says what a good value looks like.
bool assign(const IntKey& key, Settings& settings, std::string_view value) {
    const auto number = parse_int(value, key.min, key.max);
    if (number) key.field(settings) = *number;
    return number.has_value();
}

bool assign(const BoolKey& key, Settings& settings, std::string_view value) {
    const auto flag = parse_bool(value);
    if (flag) key.field(settings) = *flag;
    return flag.has_value();
}

bool assign(const TextKey& key, Settings& settings, std::string_view value) {
    if (!key.valid(value)) return false;
    key.field(settings) = value;
    return true;
}

bool assign(const AlgorithmKey&, Settings& settings, std::string_view value) {
    const auto algorithm = parse_algorithm(value);
    if (algorithm) settings.params.algorithm = *algorithm;
    return algorithm.has_value();
}

bool assign(const NullokKey&, Settings& settings, std::string_view value) {
    const auto flag = parse_bool(value);
    if (!flag) return false;
    settings.nullok_setting = *flag;
    settings.nullok = effective_nullok(settings.nullok_setting, settings.rollout);
    return true;
}

std::string expected(const IntKey& key) {
    return std::to_string(key.min) + "-" + std::to_string(key.max);
}
std::string expected(const BoolKey&) {
    return "yes or no";
}
std::string expected(const NullokKey&) {
    return "yes or no";
}
std::string expected(const TextKey& key) {
    return std::string(key.expected);
}
std::string expected(const AlgorithmKey&) {
    return "SHA1, SHA256 or SHA512";
}

std::string echoed(const Key& key, std::string_view value) {
    const auto* text = std::get_if<TextKey>(&key.kind);
    if (text != nullptr && text->may_hold_password) return "(value not shown)";
    return "'" + printable(value) + "'";
}

const Key* find_key(std::string_view name) {
    for (const Key& key : kKeys) {
        if (key.name == name) return &key;
    }
    return nullptr;
}

// Who skips the second factor is decided in the root-owned file alone, which the module
// checks (owner, mode, no symlink), not in service files it cannot check. Who may ask
// totp-verify is read by totp-verify alone, which reads no module arguments: as one it would
// be taken and then ignored.
bool is_file_only_setting(std::string_view key) {
    return key == "trusted_networks" || key == "verify_helper_group";
}

// The [global] entries of the parsed file; load_trusted_dictionary() has already removed, and
// reported, every entry that does not belong there.
void apply_dictionary(const dictionary& dict, Settings& settings,
                      std::vector<ConfigProblem>& problems) {
    constexpr std::string_view kPrefix = "global:";
    for (ssize_t i = 0; i < dict.size; ++i) {
        if (dict.key[i] == nullptr || dict.val[i] == nullptr) continue;
        const std::string_view entry = dict.key[i];
        if (entry.starts_with(kPrefix)) {
            apply_setting(settings, entry.substr(kPrefix.size()), dict.val[i], problems);
        }
    }
}

}  // namespace

void apply_setting(Settings& settings, std::string_view key, std::string_view value,
                   std::vector<ConfigProblem>& problems) {
    const Key* entry = find_key(key);
    if (entry == nullptr) {
        // A misspelt key ("nulok=no") would silently leave a weaker policy in place.
        problems.push_back({"unknown setting '" + printable(key) + "'", true});
        return;
    }
    const bool ok =
        std::visit([&](const auto& kind) { return assign(kind, settings, value); }, entry->kind);
    if (!ok) {
        const std::string wanted =
            std::visit([](const auto& kind) { return expected(kind); }, entry->kind);
        problems.push_back({"bad value for '" + std::string(entry->name) +
                                "': " + echoed(*entry, value) + " (expected " + wanted + ")",
                            entry->security_relevant});
    }
}

void apply_argument(Settings& settings, std::string_view argument,
                    std::vector<ConfigProblem>& problems) {
    const std::size_t equals = argument.find('=');
    const std::string_view key = argument.substr(0, equals);
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view() : argument.substr(equals + 1);
    if (is_file_only_setting(key)) {
        problems.push_back({"'" + std::string(key) +
                                "' is read only from the configuration file, not from a "
                                "module argument",
                            true});
        return;
    }
    if (equals != std::string_view::npos && value.empty() && detail::is_yes_no_setting(key)) {
        problems.push_back({"empty value for yes/no argument '" + printable(key) + "'", true});
        return;
    }
    apply_setting(settings, key, value, problems);
}

namespace detail {

std::optional<int> parse_int(std::string_view value, int min, int max) {
    if (value.empty() || value.front() == '-') return std::nullopt;
    int number = 0;
    const char* end = value.data() + value.size();
    const auto [stop, error] = std::from_chars(value.data(), end, number);
    if (error != std::errc{} || stop != end || number < min || number > max) return std::nullopt;
    return number;
}

bool is_yes_no_setting(std::string_view key) {
    const Key* entry = find_key(key);
    return entry != nullptr && (std::holds_alternative<BoolKey>(entry->kind) ||
                                std::holds_alternative<NullokKey>(entry->kind));
}

}  // namespace detail

void load_config_file(const std::string& path, bool missing_ok, Settings& settings,
                      std::vector<ConfigProblem>& problems) {
    const auto dict = detail::load_trusted_dictionary(path, missing_ok, problems);
    if (dict) apply_dictionary(*dict, settings, problems);
    // A relative config path is already refused; its directory names no file to trust.
    if (path.starts_with('/')) settings.rollout = read_rollout_file(rollout_path(path), problems);
    settings.nullok = effective_nullok(settings.nullok_setting, settings.rollout);
}

bool effective_nullok(std::optional<bool> nullok_setting, Rollout rollout) {
    if (nullok_setting == false || rollout == Rollout::enforce) return false;
    return nullok_setting == true || rollout == Rollout::rollout;
}

std::vector<std::string_view> setting_names() {
    std::vector<std::string_view> names;
    for (const Key& key : kKeys) names.push_back(key.name);
    return names;
}

}  // namespace totp
