// SPDX-License-Identifier: Apache-2.0
// The monitor's mail worker under a flood: one pending job per account, so requests for one
// account cannot push out the mail of another, and a full queue says so instead of blocking.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "cmocka.hpp"
#include "work_queue.hpp"

namespace {

// Holds the worker inside its first job until released, so that the test decides what is
// waiting in the queue.
class Gate {
  public:
    void wait_inside() {
        std::unique_lock lock(mutex_);
        entered_ = true;
        changed_.notify_all();
        changed_.wait(lock, [this] { return open_; });
    }
    void wait_until_entered() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return entered_; });
    }
    void open() {
        const std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool entered_ = false;
    bool open_ = false;
};

// Jobs append their name here; done() waits until `count` have run.
class Ran {
  public:
    void add(const std::string& name) {
        const std::lock_guard lock(mutex_);
        names_.push_back(name);
        changed_.notify_all();
    }
    std::vector<std::string> wait_for(std::size_t count) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return names_.size() >= count; });
        return names_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> names_;
};

}  // namespace

static void a_second_job_for_a_waiting_account_is_merged_into_the_first(void**) {
    Gate gate;
    Ran ran;
    resetd::StallGuard::Task unwatched("a test job", std::chrono::hours(1));
    resetd::WorkQueue queue(4, unwatched);
    assert_int_equal(queue.post("busy", [&] { gate.wait_inside(); }), resetd::Posted::queued);
    gate.wait_until_entered();
    assert_int_equal(queue.post("victim", [&] { ran.add("victim-1"); }), resetd::Posted::queued);
    for (int i = 0; i < 100; ++i) {
        assert_int_equal(queue.post("victim", [&] { ran.add("victim-again"); }),
                         resetd::Posted::merged);
    }
    assert_int_equal(queue.post("bystander", [&] { ran.add("bystander"); }),
                     resetd::Posted::queued);
    gate.open();
    const std::vector<std::string> names = ran.wait_for(2);
    assert_int_equal(names.size(), 2);
    assert_string_equal(names[0].c_str(), "victim-1");
    assert_string_equal(names[1].c_str(), "bystander");
}

// Once the account's job has started, a new request for it is queued again: the mail sent
// is the one asked for after the last one went out.
static void an_account_can_be_queued_again_once_its_job_started(void**) {
    Gate gate;
    Ran ran;
    resetd::StallGuard::Task unwatched("a test job", std::chrono::hours(1));
    resetd::WorkQueue queue(4, unwatched);
    assert_int_equal(queue.post("alice", [&] { gate.wait_inside(); }), resetd::Posted::queued);
    gate.wait_until_entered();
    assert_int_equal(queue.post("alice", [&] { ran.add("alice-2"); }), resetd::Posted::queued);
    gate.open();
    assert_int_equal(ran.wait_for(1).size(), 1);
}

static void a_full_queue_refuses_without_blocking_and_recovers(void**) {
    Gate gate;
    Ran ran;
    resetd::StallGuard::Task unwatched("a test job", std::chrono::hours(1));
    resetd::WorkQueue queue(2, unwatched);
    assert_int_equal(queue.post("busy", [&] { gate.wait_inside(); }), resetd::Posted::queued);
    gate.wait_until_entered();
    assert_int_equal(queue.post("a", [&] { ran.add("a"); }), resetd::Posted::queued);
    assert_int_equal(queue.post("b", [&] { ran.add("b"); }), resetd::Posted::queued);
    assert_int_equal(queue.post("c", [&] { ran.add("c"); }), resetd::Posted::full);
    // Merging into a waiting job needs no room.
    assert_int_equal(queue.post("a", [&] { ran.add("a-again"); }), resetd::Posted::merged);
    gate.open();
    ran.wait_for(2);
    assert_int_equal(queue.post("c", [&] { ran.add("c"); }), resetd::Posted::queued);
    const std::vector<std::string> names = ran.wait_for(3);
    assert_string_equal(names[2].c_str(), "c");
}

// A password-change notice is bounded by successful changes, not by requests: a queue full
// of reset requests must not cost the owner the news that the password was changed.
static void a_job_that_must_not_be_dropped_is_queued_beyond_the_capacity(void**) {
    Gate gate;
    Ran ran;
    resetd::StallGuard::Task unwatched("a test job", std::chrono::hours(1));
    resetd::WorkQueue queue(1, unwatched);
    assert_int_equal(queue.post("busy", [&] { gate.wait_inside(); }), resetd::Posted::queued);
    gate.wait_until_entered();
    assert_int_equal(queue.post(
                         "notice 1", [&] { ran.add("notice 1"); }, resetd::Room::always),
                     resetd::Posted::queued);
    // It took no room from the jobs that may be refused.
    assert_int_equal(queue.post("a", [&] { ran.add("a"); }), resetd::Posted::queued);
    assert_int_equal(queue.post("b", [&] { ran.add("b"); }), resetd::Posted::full);
    assert_int_equal(queue.post(
                         "notice 2", [&] { ran.add("notice 2"); }, resetd::Room::always),
                     resetd::Posted::queued);
    gate.open();
    const std::vector<std::string> names = ran.wait_for(3);
    assert_int_equal(names.size(), 3);
    assert_string_equal(names[0].c_str(), "notice 1");
    assert_string_equal(names[1].c_str(), "a");
    assert_string_equal(names[2].c_str(), "notice 2");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_second_job_for_a_waiting_account_is_merged_into_the_first),
        cmocka_unit_test(an_account_can_be_queued_again_once_its_job_started),
        cmocka_unit_test(a_full_queue_refuses_without_blocking_and_recovers),
        cmocka_unit_test(a_job_that_must_not_be_dropped_is_queued_beyond_the_capacity),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
