-- post.lua - POST the same body on every request:
--   wrk -s post.lua URL -- BODY_FILE CONTENT_TYPE [HEADER: VALUE]...
-- Any answer that is not 2xx counts as an error (summary.errors.status).

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[2]
  for i = 3, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end
