-- POST /predict for one of the seeded patients at random, with the admin key of the seeded data directory (ignored by a silo with Security:Enabled=false).
local patients = {}
for line in io.lines(os.getenv("AB") .. "/patients.txt") do patients[#patients + 1] = line end
local f = io.open(os.getenv("AB") .. "/key.txt"); local key = f:read("*l"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = key
request = function()
  return wrk.format(nil, "/predict", nil, '{"patient_id":"' .. patients[math.random(#patients)] .. '"}')
end
