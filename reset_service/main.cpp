// SPDX-License-Identifier: Apache-2.0
// totp-resetd: reset a forgotten password by an emailed link, with the second factor.
//
// Starts as root, reads the configuration and opens the listening socket, then splits in
// two (OpenSSH-style privilege separation):
//   - the web process drops to an unprivileged account in an empty chroot, without
//     capabilities, and serves HTTP; it can only ask the monitor the three questions of
//     protocol.hpp over a socketpair;
//   - the monitor stays root, re-checks every request, and alone touches the state store,
//     PAM (the password change) and mail.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "command_line.hpp"
#include "configuration.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "monitor.hpp"
#include "privileges.hpp"
#include "totp/clock.hpp"
#include "totp/store.hpp"
#include "totp/store_factory.hpp"
#include "totp/unique_fd.hpp"
#include "web.hpp"

namespace resetd {
namespace {

// Both processes take these signals through signalfd / sigwait, never asynchronously.
UniqueFd block_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&signals, signal);
    if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) return UniqueFd();
    ::signal(SIGPIPE, SIG_IGN);
    return UniqueFd(::signalfd(-1, &signals, SFD_CLOEXEC));
}

totp::Result<UniqueFd> listening_socket(const totp::ResetSettings& settings) {
    totp::Result<UniqueFd> inherited = inherited_listener();
    if (!inherited || inherited->valid()) return inherited;
    return open_listener(settings.listen, settings.listen_group);
}

int web_process(const Configuration& config, const WebAccount& account, UniqueFd listener,
                UniqueFd channel, pid_t monitor) {
    if (totp::Status dropped = drop_privileges(account, config.reset.chroot_dir, monitor);
        !dropped) {
        log_error("web process: %s", dropped.error().message.c_str());
        return 1;
    }
    return run_web(WebConfig{config.reset, config.site_name}, listener.get(), channel.get());
}

int monitor_process(Configuration config, UniqueFd channel, UniqueFd signals, pid_t web) {
    totp::Result<std::unique_ptr<totp::Store>> store = totp::make_store(config.global);
    if (!store) {
        log_error("monitor: %s", store.error().message.c_str());
        return 1;
    }
    totp::Result<std::unique_ptr<totp::ResetTokenStore>> tokens =
        totp::make_reset_token_store(config.global);
    if (!tokens) {
        log_error("monitor: %s", tokens.error().message.c_str());
        return 1;
    }
    const totp::SystemClock clock;
    MonitorConfig monitor_config{totp::Policy{config.global.window, config.global.max_failures,
                                              config.global.lockout_seconds},
                                 std::move(config.mail),
                                 std::move(config.reset),
                                 std::move(config.texts),
                                 std::move(config.site_name),
                                 config.uid_min};
    Monitor monitor(std::move(monitor_config), **store, **tokens, clock);
    return monitor.serve(channel.get(), signals.get(), web);
}

int run(int argc, char** argv) {
    const CommandLine command = parse_command_line(argc, argv);
    if (command.help) {
        std::fputs(usage(), stdout);
        return 0;
    }
    if (!command.error.empty()) {
        std::fprintf(stderr, "totp-resetd: %s\n%s", command.error.c_str(), usage());
        return 2;
    }
    open_log(command.options.foreground);
    forbid_core_dumps();
    if (::geteuid() != 0) {
        log_error("must be started as root: the monitor changes passwords");
        return 1;
    }

    std::optional<Configuration> config = load_configuration(command.options);
    if (!config) return 1;
    totp::Result<WebAccount> account = find_web_account(config->reset.user);
    if (!account) {
        log_error("%s", account.error().message.c_str());
        return 1;
    }
    totp::Result<UniqueFd> listener = listening_socket(config->reset);
    if (!listener) {
        log_error("%s", listener.error().message.c_str());
        return 1;
    }
    if (totp::Status jail = prepare_jail(config->reset.chroot_dir); !jail) {
        log_error("%s", jail.error().message.c_str());
        return 1;
    }
    UniqueFd signals = block_signals();
    int ends[2];
    if (!signals.valid() || ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
        log_error("setting up: %s", std::strerror(errno));
        return 1;
    }
    UniqueFd monitor_end(ends[0]);
    UniqueFd web_end(ends[1]);

    const pid_t monitor = ::getpid();
    const pid_t web = ::fork();
    if (web < 0) {
        log_error("fork: %s", std::strerror(errno));
        return 1;
    }
    if (web == 0) {
        monitor_end.reset();
        signals.reset();
        return web_process(*config, *account, std::move(*listener), std::move(web_end), monitor);
    }
    web_end.reset();
    listener->reset();
    log_info("started: web process %d as %s, listening on %s", static_cast<int>(web),
             account->name.c_str(), config->reset.listen.c_str());
    return monitor_process(std::move(*config), std::move(monitor_end), std::move(signals), web);
}

}  // namespace
}  // namespace resetd

int main(int argc, char** argv) {
    try {
        return resetd::run(argc, argv);
    } catch (const std::exception& error) {
        resetd::log_error("stopping: %s", error.what());
    } catch (...) {
        resetd::log_error("stopping after an unexpected error");
    }
    return 1;
}
