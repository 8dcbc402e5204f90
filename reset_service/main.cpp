// SPDX-License-Identifier: Apache-2.0
// totp-resetd: reset a forgotten password by an emailed link, with the second factor.
//
// Starts as root, reads the configuration and opens the listening socket, then splits in
// two (OpenSSH-style privilege separation):
//   - the web process, a fresh exec of this program (web_child.hpp), drops to an
//     unprivileged account in an empty chroot, without capabilities, and serves HTTP; it
//     can only ask the monitor the three questions of protocol.hpp over a socketpair;
//   - the monitor stays root, re-checks every request, and alone touches the state store,
//     PAM (the password change) and mail. It tells systemd when both serve, pings its
//     watchdog between requests, and ends itself when a request runs past its deadline.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>

#include "command_line.hpp"
#include "configuration.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "monitor.hpp"
#include "privileges.hpp"
#include "service_manager.hpp"
#include "totp/attempt.hpp"
#include "totp/clock.hpp"
#include "totp/store.hpp"
#include "totp/store_factory.hpp"
#include "totp/unique_fd.hpp"
#include "web.hpp"
#include "web_child.hpp"

namespace resetd {
namespace {

// The web process reads its configuration and starts its HTTP server in well under this.
constexpr std::chrono::seconds kWebStartDeadline{30};

// Both processes take these signals synchronously (signalfd, sigwait), never as handlers.
sigset_t service_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&signals, signal);
    return signals;
}

bool block_signals() {
    const sigset_t signals = service_signals();
    ::signal(SIGPIPE, SIG_IGN);
    return ::sigprocmask(SIG_BLOCK, &signals, nullptr) == 0;
}

UniqueFd signal_fd() {
    const sigset_t signals = service_signals();
    return UniqueFd(::signalfd(-1, &signals, SFD_CLOEXEC));
}

totp::Result<UniqueFd> listening_socket(const totp::ResetSettings& settings) {
    totp::Result<UniqueFd> inherited = inherited_listener();
    if (!inherited || inherited->valid()) return inherited;
    return open_listener(settings.listen, settings.listen_group);
}

// --web-child: the web process, in the address space of its own exec.
int web_process(const Options& options) {
    totp::Result<WebDescriptors> passed = adopt_web_descriptors();
    if (!passed) {
        std::fprintf(stderr, "totp-resetd: %s\n", passed.error().message.c_str());
        return 2;
    }
    std::optional<Configuration> config = load_configuration(options);
    if (!config) return 1;
    totp::Result<WebAccount> account = find_web_account(config->reset.user);
    if (!account) {
        log_error("web process: %s", account.error().message.c_str());
        return 1;
    }
    if (!block_signals()) {
        log_error("web process: blocking signals: %s", std::strerror(errno));
        return 1;
    }
    if (totp::Status dropped = drop_privileges(*account, config->reset.chroot_dir, passed->monitor);
        !dropped) {
        log_error("web process: %s", dropped.error().message.c_str());
        return 1;
    }
    return run_web(WebConfig{config->reset, config->site_name}, passed->listener.get(),
                   passed->channel.get(), std::move(passed->ready));
}

int serve_as_monitor(Configuration config, UniqueFd channel, UniqueFd signals, WebProcess web,
                     const std::string& account, const std::string& address) {
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
    MonitorConfig monitor_config{totp::login_policy(config.global), std::move(config.mail),
                                 std::move(config.reset),           std::move(config.texts),
                                 std::move(config.site_name),       config.uid_min};
    Monitor monitor(std::move(monitor_config), **store, **tokens, clock);
    if (!wait_until_serving(web.ready.get(), kWebStartDeadline)) {
        log_error("the web process did not start; stopping");
        ::kill(web.pid, SIGKILL);
        while (::waitpid(web.pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        return 1;
    }
    web.ready.reset();
    notify_ready();
    log_info("started: web process %d as %s, listening on %s", static_cast<int>(web.pid),
             account.c_str(), address.c_str());
    return monitor.serve(channel.get(), signals.get(), web.pid);
}

int start(const Options& options) {
    std::optional<Configuration> config = load_configuration(options);
    if (!config) return 1;
    // Looked up here too, so that a missing account stops the start with a clear line.
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
    int ends[2];
    if (!block_signals() || ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
        log_error("setting up: %s", std::strerror(errno));
        return 1;
    }
    UniqueFd monitor_end(ends[0]);
    UniqueFd web_end(ends[1]);
    UniqueFd signals = signal_fd();
    if (!signals.valid()) {
        log_error("signalfd: %s", std::strerror(errno));
        return 1;
    }
    totp::Result<WebProcess> web = start_web_process(options, listener->get(), web_end.get());
    if (!web) {
        log_error("%s", web.error().message.c_str());
        return 1;
    }
    web_end.reset();
    listener->reset();
    const std::string address = config->reset.listen;
    return serve_as_monitor(std::move(*config), std::move(monitor_end), std::move(signals),
                            std::move(*web), account->name, address);
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
    return command.web_child ? web_process(command.options) : start(command.options);
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
