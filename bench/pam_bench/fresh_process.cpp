// SPDX-License-Identifier: Apache-2.0
#include "fresh_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace bench {
namespace {

class Pipe {
  public:
    Pipe() {
        if (::pipe2(fds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;

    int read_end() const { return fds_[0]; }
    int write_end() const { return fds_[1]; }
    void close_read() { close_end(fds_[0]); }
    void close_write() { close_end(fds_[1]); }

  private:
    static void close_end(int& fd) {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    int fds_[2] = {-1, -1};
};

// The child's stdin and stdout become the pipes' other ends; every other descriptor of
// ours is close-on-exec.
pid_t spawn(const std::string& program, const char* service, const std::string& user,
            const Pipe& input, const Pipe& output) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input.read_end(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output.write_end(), STDOUT_FILENO);
    char* const argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>(service),
                          const_cast<char*>(user.c_str()), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot run " + program + ": " + std::strerror(rc));
    return pid;
}

void write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the child is gone: its exit status says why
        done += static_cast<std::size_t>(n);
    }
}

std::string read_all(int fd) {
    std::string text;
    char buffer[256];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return text;
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

}  // namespace

TimedLogin login_in_fresh_process(const std::string& program, const char* service,
                                  const std::string& user, const std::string& code) {
    Pipe input;
    Pipe output;
    const pid_t pid = spawn(program, service, user, input, output);
    input.close_read();
    output.close_write();
    write_all(input.write_end(), code + "\n");
    input.close_write();
    const std::string line = read_all(output.read_end());
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    TimedLogin login;
    std::istringstream fields(line);
    fields >> login.rc >> login.micros >> login.cpu_micros;
    const bool one_line =
        !fields.fail() && (fields >> std::ws).eof() && line.find('\n') == line.size() - 1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !one_line) {
        throw std::runtime_error(program + " " + service + " " + user + " failed (status " +
                                 std::to_string(status) + ", output '" + line + "')");
    }
    return login;
}

void use_private_tmp() {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("pam_bench-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
        throw std::runtime_error(std::string("a private /tmp for the fresh processes: ") +
                                 std::strerror(errno));
    }
}

}  // namespace bench
