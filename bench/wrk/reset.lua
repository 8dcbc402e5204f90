-- SPDX-License-Identifier: Apache-2.0
-- wrk script for bench/reset_service.sh.
--   wrk ... -s reset.lua URL -- get
--   wrk ... -s reset.lua URL -- post COOKIE CSRF USER
-- "post" sends what a browser sends after loading the form once: the CSRF cookie and the
-- form's hidden field, and the user name. The service runs behind a proxy in this setup
-- (client_ip_header = X-Real-IP), and each request names one of 256 client addresses.
-- done() prints one tab-separated line that bench/reset_service.sh records.

local mode, cookie, body
local sent = 0

function init(args)
    mode = args[1]
    if mode == "post" then
        cookie = args[2]
        body = "csrf=" .. args[3] .. "&user=" .. args[4]
    end
end

function request()
    if mode ~= "post" then
        return wrk.format("GET", "/")
    end
    sent = sent + 1
    local headers = {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Cookie"] = cookie,
        ["X-Real-IP"] = "10.0.0." .. (sent % 256),
    }
    return wrk.format("POST", "/request", headers, body)
end

function done(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format("wrk\t%d\t%d\t%.1f\t%.1f\t%d\t%d\n", summary.requests,
        summary.duration, latency:percentile(50), latency:percentile(99), errors.status,
        errors.connect + errors.read + errors.write + errors.timeout))
end
