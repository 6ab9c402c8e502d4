-- get.lua - GET with extra headers:
--   wrk -s get.lua URL -- [HEADER: VALUE]...
-- (the protected GET: -- "Authorization: Bearer TOKEN")

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

function init(args)
  for i = 1, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end
