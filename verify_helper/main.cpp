// SPDX-License-Identifier: Apache-2.0
// totp-verify: checks one code for pam_totp.so when the program running PAM is not root (a
// screen locker, OpenVPN --user nobody), as unix_chkpwd checks passwords for pam_unix.
//
// Installed setuid root. The order below is the security argument: the process state the
// caller left is reset before anything is read; only root's configuration counts; who may
// ask about whom is decided before any record is opened; the attempt is recorded durably
// before the answer; the answer is yes or no and nothing else (totp/verify_helper.hpp).
// Every outcome is one syslog line with the caller's uid, here or in answer.cpp.
#include <syslog.h>
#include <unistd.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "answer.hpp"
#include "process.hpp"
#include "request.hpp"
#include "totp/clock.hpp"
#include "totp/config.hpp"
#include "totp/store_factory.hpp"
#include "totp/verify_helper.hpp"

namespace totp_verify {
namespace {

using totp::HelperExit;

void log_line(int priority, const std::string& line) {
    ::syslog(priority, "%s", line.c_str());
}

void log_refusal(uid_t caller, int priority, const std::string& why) {
    log_line(priority, why + " (caller uid " + std::to_string(caller) + ")");
}

// Root's pam_totp.conf, never a file or value the caller names. nullopt: refuse (logged).
std::optional<totp::Settings> load_root_settings(uid_t caller) {
    totp::Settings settings;
    std::vector<totp::ConfigProblem> problems;
    totp::load_config_file(totp::kDefaultConfigPath, true, settings, problems);
    bool fail_closed = false;
    for (const totp::ConfigProblem& problem : problems) {
        log_refusal(caller, LOG_ERR, problem.message);
        fail_closed = fail_closed || problem.security_relevant;
    }
    if (fail_closed) {
        log_refusal(caller, LOG_ERR, "security-relevant configuration error, failing closed");
        return std::nullopt;
    }
    return settings;
}

HelperExit run(int argc, const char* const* argv) {
    const uid_t caller = ::getuid();
    totp::Result<totp::SecretString> input = read_code_input();
    if (!input) {
        log_refusal(caller, LOG_WARNING, "refused: " + input.error().message);
        return HelperExit::bad_request;
    }
    const totp::Result<Request> request = parse_request(argc, argv, input->view());
    input->clear();
    if (!request) {
        log_refusal(caller, LOG_WARNING, "refused: " + request.error().message);
        return HelperExit::bad_request;
    }
    const std::optional<totp::Settings> settings = load_root_settings(caller);
    if (!settings) return HelperExit::failed;
    const totp::Result<std::unique_ptr<totp::Store>> store = totp::make_store(*settings);
    if (!store) {
        log_refusal(caller, LOG_ERR,
                    "cannot use the store (" + store.error().message + "), failing closed");
        return HelperExit::failed;
    }
    const totp::SystemClock clock;
    return answer_request(caller, *request, *settings, **store, clock.now(), log_line);
}

// The answer goes out after the attempt is recorded; a caller that stopped listening
// (SIGPIPE) changes nothing that is stored, and an answer that did not go out is no "yes".
void send_answer(HelperExit exit) {
    const std::string_view answer =
        exit == HelperExit::accepted ? totp::kHelperYes : totp::kHelperNo;
    if (::write(STDOUT_FILENO, answer.data(), answer.size()) !=
        static_cast<ssize_t>(answer.size())) {
        ::syslog(LOG_ERR, "cannot send the answer to the caller");
    }
}

}  // namespace
}  // namespace totp_verify

int main(int argc, char** argv) {
    const bool limits_raised = totp_verify::reset_process_state();
    ::openlog("totp-verify", LOG_PID, LOG_AUTHPRIV);
    totp::HelperExit exit = totp::HelperExit::failed;
    try {
        if (limits_raised) {
            exit = totp_verify::run(argc, argv);
        } else {
            totp_verify::log_refusal(::getuid(), LOG_ERR,
                                     "the caller's resource limits are below the helper's and "
                                     "cannot be raised, failing closed");
        }
    } catch (const std::exception& error) {
        ::syslog(LOG_CRIT, "internal error, failing closed: %s", error.what());
    } catch (...) {
        ::syslog(LOG_CRIT, "internal error, failing closed");
    }
    totp_verify::send_answer(exit);
    return static_cast<int>(exit);
}
