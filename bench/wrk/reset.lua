-- SPDX-License-Identifier: Apache-2.0
-- wrk script for bench/reset_service.sh.
--   wrk ... -s reset.lua URL -- get
--   wrk ... -s reset.lua URL -- post COOKIE CSRF USER
-- "post" sends what a browser sends after loading the form once: the CSRF cookie and the
-- form's hidden field, and the user name. The service runs behind a proxy in this setup
-- (client_ip_header = X-Real-IP from trusted_proxies = 127.0.0.1), and each request names
-- one of 256 client addresses.
--   wrk ... -s reset.lua URL -- flood COOKIE CSRF USER
-- is "post" with a new client address in every request (10.0.0.0/8, each wrk thread its own
-- part of it), to fill the limiter of requests per address;
--   wrk ... -s reset.lua URL -- badlinks
-- opens a made-up reset link from a new address each time, to fill the limiter of failures
-- per address.
-- done() prints one tab-separated line that bench/reset_service.sh records.

local mode, cookie, body
local sent = 0
-- setup() runs in the main Lua state; thread:set() makes thread_number a global of the
-- thread's own state.
thread_number = 0
local threads_seen = 0

function setup(thread)
    thread:set("thread_number", threads_seen)
    threads_seen = threads_seen + 1
end

function init(args)
    mode = args[1]
    if mode == "post" or mode == "flood" then
        cookie = args[2]
        body = "csrf=" .. args[3] .. "&user=" .. args[4]
    end
end

-- `digits` random hex digits (a well-formed token nobody was sent).
function hex(digits)
    local out = {}
    for i = 1, digits do
        out[i] = string.format("%x", math.random(0, 15))
    end
    return table.concat(out)
end

function request()
    if mode == "get" then
        return wrk.format("GET", "/")
    end
    sent = sent + 1
    local address = "10.0.0." .. (sent % 256)
    if mode == "flood" or mode == "badlinks" then
        local n = thread_number * 4194304 + sent % 4194304
        address = "10." .. (math.floor(n / 65536) % 256) .. "." .. (math.floor(n / 256) % 256) ..
            "." .. (n % 256)
    end
    if mode == "badlinks" then
        return wrk.format("GET", "/reset?token=" .. hex(24) .. "." .. hex(64),
            {["X-Real-IP"] = address})
    end
    local headers = {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Cookie"] = cookie,
        ["X-Real-IP"] = address,
    }
    return wrk.format("POST", "/request", headers, body)
end

function done(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format("wrk\t%d\t%d\t%.1f\t%.1f\t%d\t%d\n", summary.requests,
        summary.duration, latency:percentile(50), latency:percentile(99), errors.status,
        errors.connect + errors.read + errors.write + errors.timeout))
end
