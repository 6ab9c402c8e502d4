-- mixed.lua - the soak's load: reads, writes and MCP calls in turns on
-- every connection:
--   wrk -s mixed.lua URL -- TASK_ID MCP_BODY_FILE
-- Out of every ten requests: four GET a task, two GET a filtered page,
-- two call the MCP tool get_task over Streamable HTTP (the stateless
-- era), two POST a message. At the end, besides report.lua's line, one
-- line with what the answers said:
--   SOAK {"created": N, "rpc_errors": N, "bad": N}
-- created: messages answered 201 (each must be in the database after);
-- rpc_errors: MCP answers that carry a JSON-RPC error or isError; bad:
-- answers other than 200 and 201.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local reqs = {}
local n = 0
created, rpc_errors, bad = 0, 0, 0

function init(args)
  local task = args[1]
  local f = assert(io.open(args[2], "rb"))
  local call = f:read("*a")
  f:close()
  local json = { ["Content-Type"] = "application/json" }
  local mcp = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = "2026-07-28",
    ["Mcp-Method"] = "tools/call",
    ["Mcp-Name"] = "get_task",
  }
  local message = '{"from_agent": "soak", "to_domain": "custodian", ' ..
    '"subject": "soak", "body": "A message written under load."}'
  local get = wrk.format("GET", "/tasks/" .. task)
  local page = wrk.format("GET", "/tasks?status=todo&limit=50")
  local rpc = wrk.format("POST", "/mcp", mcp, call)
  local post = wrk.format("POST", "/messages", json, message)
  reqs = { get, page, rpc, get, post, get, rpc, page, get, post }
end

function request()
  n = n % #reqs + 1
  return reqs[n]
end

-- A thread's connections share this state, so an answer is told by what
-- it is: a JSON-RPC answer (MCP), a 201 (a message), a 200 (a read).
function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status ~= 200 then
    bad = bad + 1
  elseif body:find('"jsonrpc"', 1, true) and
         (body:find('"error"', 1, true) or
          body:find('"isError":true', 1, true)) then
    rpc_errors = rpc_errors + 1
  end
end

local report_done = done

function done(summary, latency, requests)
  report_done(summary, latency, requests)
  local c, e, b = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    e = e + t:get("rpc_errors")
    b = b + t:get("bad")
  end
  io.write(string.format(
    'SOAK {"created": %d, "rpc_errors": %d, "bad": %d}\n', c, e, b))
end
