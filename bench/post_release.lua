-- wrk script: POST /api/releases with a new version on every request (10 attributes, the
-- same template each time, as a CI job releasing one service would), authenticated with the
-- API token in the environment variable KUBERNAUT_TOKEN (bench/releases.sh sets it).
-- `thread_id` is a global so that setup() can set it per thread with thread:set.
local token = os.getenv("KUBERNAUT_TOKEN") or error("KUBERNAUT_TOKEN is not set")
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
local counter = 0
local unexpected = 0
thread_id = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local template = [[
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{service}}
  labels:
    app: {{service}}
    version: "{{version}}"
spec:
  replicas: {{replicas}}
  selector:
    matchLabels:
      app: {{service}}
  template:
    metadata:
      labels:
        app: {{service}}
        commit: "{{commit}}"
    spec:
      containers:
        - name: {{service}}
          image: "{{image}}"
          ports:
            - containerPort: {{port}}
          env:
            - name: LOG_LEVEL
              value: "{{log_level}}"
            - name: REGION
              value: "{{region}}"
          resources:
            limits:
              cpu: "{{cpu}}"
              memory: "{{memory}}"
---
apiVersion: v1
kind: Service
metadata:
  name: {{service}}
spec:
  selector:
    app: {{service}}
  ports:
    - port: 80
      targetPort: {{port}}
]]

local function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n') .. '"'
end

request = function()
  counter = counter + 1
  local version = string.format("%d.%d.%d", os.time(), thread_id, counter)
  local body = '{"service":"bench-wrk","version":"' .. version .. '","template":'
    .. json_string(template)
    .. ',"attributes":{"image":"registry.example.com/bench:' .. version .. '",'
    .. '"commit":"3f2a9c1","replicas":"3","port":"8080","log_level":"info",'
    .. '"region":"eu-west-1","cpu":"500m","memory":"256Mi","team":"platform",'
    .. '"build_url":"https://ci.example.com/job/bench/' .. counter .. '"}}'
  return wrk.format("POST", "/api/releases", headers, body)
end

response = function(status, headers, body)
  if status ~= 201 then
    unexpected = unexpected + 1
    if unexpected <= 3 then
      io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 200) .. "\n")
    end
  end
end
