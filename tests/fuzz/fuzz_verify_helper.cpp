// SPDX-License-Identifier: Apache-2.0
// totp-verify's input (any command line, any bytes on stdin) and its decision for any
// caller: a request is taken only as exactly one safe user name and a non-empty code (the
// input less one trailing newline); a record is opened only when the caller may ask about
// that user (its own uid, root, or a member of verify_helper_group); "accepted" comes only
// for an answer the state accepts, and nothing but a failure is logged with the code.
// Accounts come from faults.cpp's table, the store is in memory.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "answer.hpp"
#include "faults.hpp"
#include "fuzz_input.hpp"
#include "request.hpp"
#include "state_builder.hpp"
#include "totp/username.hpp"

namespace {

// alice 1001 and bob 1002 are people; svc 1003 is in the group "verifiers" (gid 500).
constexpr uid_t kCallers[] = {0, 1001, 1002, 1003, 4242};
const char* const kNames[] = {"alice", "bob", "svc", "nobody-here", "root"};

class MemoryRecord final : public totp::Record {
  public:
    explicit MemoryRecord(std::optional<totp::UserState>& state) : state_(state) {}
    const std::optional<totp::UserState>& state() const override { return state_; }
    totp::Status save(const totp::UserState& state) override {
        state_ = state.clone();
        return {};
    }
    totp::Status remove() override {
        state_.reset();
        return {};
    }

  private:
    std::optional<totp::UserState>& state_;
};

class MemoryStore final : public totp::Store {
  public:
    explicit MemoryStore(std::optional<totp::UserState> state) : state_(std::move(state)) {}
    totp::Result<std::unique_ptr<totp::Record>> open(std::string_view user) override {
        opened_.emplace_back(user);
        return std::unique_ptr<totp::Record>(std::make_unique<MemoryRecord>(state_));
    }
    totp::Result<std::vector<std::string>> users() override { return std::vector<std::string>{}; }
    const std::vector<std::string>& opened() const { return opened_; }

  private:
    std::optional<totp::UserState> state_;
    std::vector<std::string> opened_;
};

void set_up_accounts() {
    static const bool done = [] {
        faults::set_accounts({{"root", 0, 0, "/root", {}},
                              {"alice", 1001, 1001, "/home/alice", {}},
                              {"bob", 1002, 1002, "/home/bob", {}},
                              {"svc", 1003, 1003, "/nonexistent", {500}}},
                             {{"verifiers", 500}, {"alice", 1001}});
        return true;
    }();
    (void)done;
}

std::optional<uid_t> uid_of(const std::string& name) {
    if (name == "root") return 0;
    if (name == "alice") return 1001;
    if (name == "bob") return 1002;
    if (name == "svc") return 1003;
    return std::nullopt;
}

constexpr std::size_t npos = std::string_view::npos;

bool is_fixed_name(const std::string& name) {
    return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

// A code or a recovery code as typed (digits, capitals, dashes), long enough that no fixed
// text of a log line can hold it by chance.
bool looks_like_a_code(std::string_view text) {
    return text.size() >= 6 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '-';
           });
}

void check_parse(int argc, const char* const* argv, const std::string& stdin_bytes,
                 const totp::Result<totp_verify::Request>& request) {
    const bool valid_shape = argc == 2 && totp::check_username(argv[1]).ok();
    std::string_view code = stdin_bytes;
    if (code.ends_with('\n')) code.remove_suffix(1);
    if (request.ok() != (valid_shape && !code.empty())) {
        fuzz::violated(request.ok() ? "a malformed request was taken" : "a request was refused");
    }
    if (!request) {
        const bool name_holds_it = argc > 1 && std::string_view(argv[1]).find(code) != npos;
        if (looks_like_a_code(code) && !name_holds_it &&
            request.error().message.find(code) != std::string::npos)
            fuzz::violated("a refusal quotes the code");
        return;
    }
    if (request->user != argv[1]) fuzz::violated("the user is not argv[1]");
    if (request->code.view() != code) fuzz::violated("the code is not stdin less one newline");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    set_up_accounts();
    fuzz::Input input(data, size);
    const uid_t caller = kCallers[input.byte() % std::size(kCallers)];
    totp::Settings settings;
    settings.verify_helper_group = input.flag() ? "verifiers" : (input.flag() ? "alice" : "");
    const std::int64_t now = input.number(fuzz::kMinTime, fuzz::kMaxTime);
    settings.window = static_cast<int>(input.number(0, 10));

    std::vector<std::string> args{"totp-verify"};
    const int extra = static_cast<int>(input.byte() % 4);
    for (int i = 0; i < extra; ++i) {
        args.push_back(input.flag() ? kNames[input.byte() % std::size(kNames)] : input.text(40));
    }
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    argv.push_back(nullptr);
    const int argc = static_cast<int>(args.size());

    const fuzz::BuiltState built = fuzz::build_state(input, now);
    std::string stdin_bytes = input.flag() ? fuzz::make_answer(input, built.state, now)
                                           : input.text(totp::kMaxHelperInput + 1);
    if (input.flag()) stdin_bytes += '\n';

    const totp::Result<totp_verify::Request> request =
        totp_verify::parse_request(argc, argv.data(), stdin_bytes);
    check_parse(argc, argv.data(), stdin_bytes, request);
    if (!request) return 0;

    MemoryStore store(built.state.clone());
    std::vector<std::string> lines;
    const totp_verify::LogLine log = [&lines](int, const std::string& line) {
        lines.push_back(line);
    };
    const totp::HelperExit exit =
        totp_verify::answer_request(caller, *request, settings, store, now, log);

    const std::optional<uid_t> target = uid_of(request->user);
    // svc is in "verifiers" as a supplementary group, alice in "alice" as her primary one.
    const bool member = (caller == 1003 && settings.verify_helper_group == "verifiers") ||
                        (caller == 1001 && settings.verify_helper_group == "alice");
    const bool may_ask = target && (caller == 0 || *target == caller || member);
    if (!store.opened().empty() != may_ask) {
        fuzz::violated(may_ask ? "an allowed request was not checked"
                               : "a record was opened for a caller who may not ask");
    }
    if (!may_ask && exit != totp::HelperExit::bad_request && exit != totp::HelperExit::failed)
        fuzz::violated("a caller who may not ask got an answer about the code");
    const std::string code(request->code.view());
    const bool acceptable = fuzz::acceptable(built.state, code, now, settings.window);
    if (exit == totp::HelperExit::accepted && !(may_ask && acceptable))
        fuzz::violated("accepted an answer the state does not accept");
    if (may_ask && acceptable && exit != totp::HelperExit::accepted)
        fuzz::violated("refused an answer the state accepts");
    if (lines.empty()) fuzz::violated("an outcome was not logged");
    for (const std::string& line : lines) {
        if (looks_like_a_code(code) && is_fixed_name(request->user) && line.find(code) != npos)
            fuzz::violated("a log line holds the code", line);
        if (line.find("caller uid " + std::to_string(caller)) == npos)
            fuzz::violated("a log line lacks the caller's uid", line);
    }
    return 0;
}
