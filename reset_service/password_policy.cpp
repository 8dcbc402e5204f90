// SPDX-License-Identifier: Apache-2.0
#include "password_policy.hpp"

#include <pwquality.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "log.hpp"
#include "totp/secret.hpp"
#include "totp/text.hpp"

namespace resetd {
namespace {

constexpr std::size_t kMaxMessageLength = 256;
constexpr std::string_view kModule = "pam_pwquality.so";

struct FreeSettings {
    void operator()(pwquality_settings_t* settings) const { pwquality_free_settings(settings); }
};
using Settings = std::unique_ptr<pwquality_settings_t, FreeSettings>;

// The arguments of the service's `password ... pam_pwquality.so ARGS` line. The control
// field may be a bracketed list with spaces, so the module is found by name.
std::vector<std::string> module_arguments(const char* pam_service) {
    std::ifstream in(pam_service);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string word;
        if (!(words >> word) || word != "password") continue;
        while (words >> word && !word.ends_with(kModule)) {
        }
        if (!word.ends_with(kModule)) continue;
        std::vector<std::string> arguments;
        while (words >> word) arguments.push_back(word);
        return arguments;
    }
    return {};
}

Settings load_settings(const PolicyFiles& files) {
    Settings settings(pwquality_default_settings());
    if (!settings) return settings;
    void* aux = nullptr;
    if (const int error = pwquality_read_config(settings.get(), files.pwquality_conf, &aux);
        error != 0) {
        char text[PWQ_MAX_ERROR_MESSAGE_LEN] = {};
        log_warning("password policy pre-check: %s",
                    totp::printable(pwquality_strerror(text, sizeof text, error, aux)).c_str());
    }
    // pam_pwquality's own options (retry=, enforce_for_root, ...) are not settings: skipped.
    for (const std::string& argument : module_arguments(files.pam_service)) {
        (void)pwquality_set_option(settings.get(), argument.c_str());
    }
    return settings;
}

}  // namespace

std::optional<std::string> policy_refusal(const std::string& user, std::string_view password,
                                          const PolicyFiles& files) {
    const Settings settings = load_settings(files);
    if (!settings) return std::nullopt;
    const totp::SecretString copy(password);  // NUL-terminated, wiped
    void* aux = nullptr;
    const int score = pwquality_check(settings.get(), copy.c_str(), nullptr, user.c_str(), &aux);
    if (score >= 0) return std::nullopt;
    char text[PWQ_MAX_ERROR_MESSAGE_LEN] = {};
    const char* reason = pwquality_strerror(text, sizeof text, score, aux);
    return "BAD PASSWORD: " + totp::printable(reason, kMaxMessageLength);
}

}  // namespace resetd
