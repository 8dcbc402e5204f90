// SPDX-License-Identifier: Apache-2.0
#include "fixture.hpp"

#include <dirent.h>
#include <fcntl.h>
extern "C" {
#include <libpamtest.h>
}
#include <security/pam_appl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "one_token.hpp"
#include "totp/base32.hpp"
#include "totp/store.hpp"

namespace fixture {
namespace {

Paths g_paths;

// In-process: a child process would load pam_wrapper too and set up its own copy.
void remove_tree(const std::string& path) {
    std::error_code error;
    std::filesystem::remove_all(path, error);
    must(!error, "remove_all");
}

struct Conversation {
    const std::vector<std::string>* answers;
    std::size_t next = 0;
    std::vector<std::string>* prompts;
    std::vector<std::string>* messages = nullptr;
};

int converse(int count, const pam_message** messages, pam_response** responses, void* data) {
    auto* conversation = static_cast<Conversation*>(data);
    auto* replies = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (replies == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const int style = messages[i]->msg_style;
        if (conversation->messages != nullptr &&
            (style == PAM_TEXT_INFO || style == PAM_ERROR_MSG)) {
            conversation->messages->push_back((style == PAM_TEXT_INFO ? "info: " : "error: ") +
                                              std::string(messages[i]->msg));
        }
        if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) continue;
        conversation->prompts->push_back(messages[i]->msg);
        if (conversation->next >= conversation->answers->size()) {
            std::free(replies);
            return PAM_CONV_ERR;
        }
        replies[i].resp = strdup((*conversation->answers)[conversation->next++].c_str());
    }
    *responses = replies;
    return PAM_SUCCESS;
}

std::string passwd_text() {
    std::string text = "root:x:0:0:root:/root:/bin/sh\n";
    int uid = 1001;
    for (const char* user : kUsers) {
        text += std::string(user) + ":x:" + std::to_string(uid) + ":" + std::to_string(uid) +
                "::/home/" + user + ":/bin/sh\n";
        ++uid;
    }
    for (const char* alias : kAliceAliases)
        text += std::string(alias) + ":x:1001:1001::/home/alice:/bin/sh\n";
    return text;
}

std::string group_text() {
    std::string text = "root:x:0:\n";
    int gid = 1001;
    for (const char* user : kUsers)
        text += std::string(user) + ":x:" + std::to_string(gid++) + ":\n";
    text += "totp-users:x:2000:carol\nno2fa:x:2001:dave\n";
    return text;
}

}  // namespace

void must(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fixture: %s failed: %s\n", what, std::strerror(errno));
        std::abort();
    }
}

const Paths& paths() {
    return g_paths;
}

std::string password_of(const std::string& user) {
    return user + "-pw";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const std::string& path, const std::string& text, unsigned mode) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    must(fd >= 0, "open for write");
    must(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()), "write");
    must(fchmod(fd, mode) == 0, "fchmod");
    close(fd);
}

int setup_sandbox(void**) {
    char root[] = "/tmp/pam_totp_test.XXXXXX";
    must(mkdtemp(root) != nullptr, "mkdtemp");
    g_paths.root = root;
    g_paths.state_dir = g_paths.root + "/state";
    g_paths.config = g_paths.root + "/pam_totp.conf";
    g_paths.syslog = g_paths.root + "/syslog";
    must(mkdir(g_paths.state_dir.c_str(), 0700) == 0, "mkdir state");
    must(mkdir((g_paths.root + "/services").c_str(), 0755) == 0, "mkdir services");
    write_file(g_paths.root + "/passwd", passwd_text(), 0644);
    write_file(g_paths.root + "/group", group_text(), 0644);
    write_file(g_paths.config, "[global]\n", 0644);

    std::string passdb;
    for (const char* user : kUsers)
        passdb += std::string(user) + ":" + password_of(user) + ":any\n";
    for (const char* alias : kAliceAliases)
        passdb += std::string(alias) + ":" + password_of(alias) + ":any\n";
    write_file(g_paths.root + "/passdb", passdb);

    setenv("PAM_WRAPPER_SERVICE_DIR", (g_paths.root + "/services").c_str(), 1);
    setenv("NSS_WRAPPER_PASSWD", (g_paths.root + "/passwd").c_str(), 1);
    setenv("NSS_WRAPPER_GROUP", (g_paths.root + "/group").c_str(), 1);
    setenv("TOTP_TEST_SYSLOG", g_paths.syslog.c_str(), 1);
    setenv("PAM_WRAPPER_USE_SYSLOG", "1", 1);
    return 0;
}

int teardown_sandbox(void**) {
    if (!g_paths.root.empty() && std::getenv("TOTP_TEST_KEEP") == nullptr)
        remove_tree(g_paths.root);
    return 0;
}

int reset(void**) {
    remove_tree(g_paths.state_dir);
    must(mkdir(g_paths.state_dir.c_str(), 0700) == 0, "mkdir state");
    unlink(g_paths.syslog.c_str());
    write_file(g_paths.config, "[global]\n", 0644);
    set_now(kEpoch);
    return 0;
}

void write_raw_service(const std::string& name, const std::string& text) {
    write_file(g_paths.root + "/services/" + name, text, 0644);
}

void write_service(const std::string& name, const std::string& module_args) {
    const std::string matrix = std::string("auth required ") + TOTP_PAM_WRAPPER_MODULES +
                               "/pam_matrix.so" + " passdb=" + g_paths.root + "/passdb\n";
    const std::string totp = std::string("auth required ") + TOTP_MODULE_PATH +
                             " state_dir=" + g_paths.state_dir + " config=" + g_paths.config + " " +
                             module_args + "\n";
    write_raw_service(name, matrix + totp);
}

void write_forward_pass_service(const std::string& name) {
    const std::string totp = std::string(TOTP_MODULE_PATH) + " state_dir=" + g_paths.state_dir +
                             " config=" + g_paths.config;
    write_raw_service(name, "auth requisite " + totp + " forward_pass\n" + "auth requisite " +
                                TOTP_TEST_PASSWORD_MODULE + " use_first_pass\n" + "auth required " +
                                totp + "\n");
}

void set_now(std::int64_t unix_time) {
    setenv("TOTP_TEST_NOW", std::to_string(unix_time).c_str(), 1);
}

void start_pam_wrapper() {
    const pam_conv conv{converse, nullptr};
    pam_handle_t* handle = nullptr;
    must(pam_start("login", "root", &conv, &handle) == PAM_SUCCESS, "pam_start");
    pam_end(handle, PAM_SUCCESS);
}

void remove_pam_wrapper_dir() {
    const char* dir = std::getenv("PAM_WRAPPER_RUNTIME_DIR");
    if (dir != nullptr && std::strncmp(dir, "/tmp/pam.", 9) == 0) remove_tree(dir);
}

int race(int processes, const std::function<bool(int index)>& attempt) {
    int gate[2];
    must(pipe(gate) == 0, "pipe");
    const std::string init_lock = g_paths.root + "/pam_wrapper.lock";
    std::vector<pid_t> children;
    for (int i = 0; i < processes; ++i) {
        const pid_t pid = fork();
        must(pid >= 0, "fork");
        if (pid == 0) {
            close(gate[1]);
            // Only the setup is serialized, not the attempts.
            const int lock = open(init_lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (lock < 0 || flock(lock, LOCK_EX) != 0) _exit(98);
            start_pam_wrapper();
            close(lock);
            char go;
            if (read(gate[0], &go, 1) != 0) _exit(99);  // EOF is the starting signal
            const bool won = attempt(i);
            remove_pam_wrapper_dir();  // _exit skips pam_wrapper's own cleanup
            _exit(won ? 0 : 1);
        }
        children.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);  // all children start together
    int successes = 0;
    for (pid_t pid : children) {
        int status = 0;
        must(waitpid(pid, &status, 0) == pid, "waitpid");
        must(WIFEXITED(status) && WEXITSTATUS(status) <= 1, "racing child finished");
        if (WEXITSTATUS(status) == 0) ++successes;
    }
    return successes;
}

std::string state_file(const std::string& user) {
    return g_paths.state_dir + "/" + user;
}

totp::UserState new_state(totp::OtpParams params, const std::vector<std::string>& recovery_codes,
                          const std::string& secret_base32) {
    totp::UserState state;
    one_token(state).params = params;
    if (secret_base32.empty()) {
        one_token(state).secret = totp::SecretBytes(20);
        must(totp::random_bytes(one_token(state).secret.data(), one_token(state).secret.size()),
             "random");
    } else {
        auto decoded = totp::base32_decode(secret_base32);
        must(decoded.ok(), "base32 secret");
        one_token(state).secret = std::move(decoded).value();
    }
    for (const std::string& code : recovery_codes) {
        auto normalized = totp::normalize_recovery_code(code);
        must(normalized.has_value(), "recovery code shape");
        auto hash = totp::hash_recovery_code(normalized->view());
        must(hash.ok(), "hash recovery code");
        state.recovery.push_back(*hash);
    }
    state.created = kEpoch;
    return state;
}

totp::SecretBytes enroll(const std::string& user, totp::OtpParams params,
                         const std::vector<std::string>& recovery_codes,
                         const std::string& secret_base32) {
    const totp::UserState state = new_state(params, recovery_codes, secret_base32);
    write_state(user, state);
    return one_token(state).secret.clone();
}

void write_state(const std::string& user, const totp::UserState& state) {
    auto store = totp::make_file_store({.state_dir = g_paths.state_dir, .secret_path = ""});
    auto record = store->open(user);
    if (!record)
        std::fprintf(stderr, "fixture: open %s: %s\n", user.c_str(),
                     record.error().message.c_str());
    must(record.ok(), "open record");
    const totp::Status saved = (*record)->save(state);
    if (!saved) std::fprintf(stderr, "fixture: save: %s\n", saved.error().message.c_str());
    must(saved.ok(), "save record");
}

totp::UserState read_state(const std::string& user) {
    auto store = totp::make_file_store({.state_dir = g_paths.state_dir, .secret_path = ""});
    auto record = store->open(user);
    must(record.ok() && (*record)->state().has_value(), "read record");
    return (*record)->state()->clone();
}

std::string oathtool(const std::string& arguments) {
    const std::string command = "env -u LD_PRELOAD oathtool " + arguments;
    FILE* pipe = popen(command.c_str(), "r");
    must(pipe != nullptr, "run oathtool");
    char line[64] = {0};
    const bool read = std::fgets(line, sizeof line, pipe) != nullptr;
    const int status = pclose(pipe);
    must(read && status == 0, "oathtool printed a code (is it installed?)");
    std::string code(line);
    while (!code.empty() && (code.back() == '\n' || code.back() == '\r')) code.pop_back();
    return code;
}

std::string code_at(const totp::SecretBytes& secret, const totp::OtpParams& params,
                    std::int64_t unix_time) {
    auto code = totp::hotp(secret, totp::time_step(unix_time, params.period), params.algorithm,
                           params.digits);
    must(code.ok(), "hotp");
    return std::string(code->view());
}

std::string wrong_code(const totp::SecretBytes& secret, std::int64_t unix_time,
                       const totp::OtpParams& params) {
    constexpr std::int64_t kSteps = 10;
    std::set<std::string> valid;
    for (std::int64_t step = -kSteps; step <= kSteps; ++step)
        valid.insert(code_at(secret, params, unix_time + step * params.period));
    for (int candidate = 0;; ++candidate) {
        std::string code = std::to_string(candidate);
        code.insert(0, static_cast<std::size_t>(params.digits) - code.size(), '0');
        if (!valid.contains(code)) return code;
    }
}

LoginResult login(const std::string& service, const std::string& user,
                  const std::vector<std::string>& answers) {
    LoginResult result;
    Conversation conversation{&answers, 0, &result.prompts, &result.messages};
    pam_testcase cases[] = {
        pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
        pam_test(PAMTEST_KEEPHANDLE, PAM_SUCCESS),
    };
    const pamtest_err outcome =
        _pamtest_conv(service.c_str(), user.c_str(), converse, &conversation, cases, 2, nullptr);
    // A service that failed to start never ran pam_authenticate: its op_rv of 0 would
    // read as PAM_SUCCESS.
    if (outcome == PAMTEST_ERR_START || outcome == PAMTEST_ERR_INTERNAL) {
        std::fprintf(stderr, "fixture: service %s did not start: %s\n", service.c_str(),
                     pamtest_strerror(outcome));
        std::abort();
    }
    result.rc = cases[0].op_rv;
    pam_handle_t* handle = cases[1].case_out.ph;
    if (handle != nullptr) {
        // Applications cannot read PAM_AUTHTOK; pam_get_items.so, when stacked, exports it.
        if (const char* token = pam_getenv(handle, "PAM_AUTHTOK")) result.authtok = token;
        pam_end(handle, result.rc);
    }
    return result;
}

std::vector<int> attempts_on_one_handle(const std::string& service,
                                        const std::vector<std::string>& users,
                                        const std::vector<std::string>& answers) {
    std::vector<std::string> prompts;
    Conversation conversation{&answers, 0, &prompts};
    const pam_conv conv{converse, &conversation};
    pam_handle_t* handle = nullptr;
    must(pam_start(service.c_str(), users.front().c_str(), &conv, &handle) == PAM_SUCCESS,
         "pam_start");
    std::vector<int> results;
    for (const std::string& user : users) {
        must(pam_set_item(handle, PAM_USER, user.c_str()) == PAM_SUCCESS, "pam_set_item");
        results.push_back(pam_authenticate(handle, 0));
    }
    pam_end(handle, results.back());
    return results;
}

LoginResult login_from(const std::string& service, const std::string& user,
                       const std::vector<std::string>& answers, const std::string& rhost,
                       int flags) {
    LoginResult result;
    Conversation conversation{&answers, 0, &result.prompts, &result.messages};
    const pam_conv conv{converse, &conversation};
    pam_handle_t* handle = nullptr;
    must(pam_start(service.c_str(), user.c_str(), &conv, &handle) == PAM_SUCCESS, "pam_start");
    pam_set_item(handle, PAM_RHOST, rhost.c_str());
    result.rc = pam_authenticate(handle, flags);
    pam_end(handle, result.rc);
    return result;
}

std::string read_log() {
    return read_file(g_paths.syslog);
}

bool log_contains(const std::string& text) {
    return read_log().find(text) != std::string::npos;
}

}  // namespace fixture
