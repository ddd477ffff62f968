--[[
  Commits one batch of one partition atomically: the offset fence, every touched customer's
  state (compare-and-set on its version), the segment changes appended to the outbox, the
  timers, and the segment indexes (member sets and counts). Nothing is written unless every
  check passes, so a crash or a stale writer leaves the partition exactly as it was.

  KEYS[1]  fence hash     topic -> next offset to apply         e.g. crm:{3}:fence
  KEYS[2]  state hash     customer id -> "<version>|<state>"    e.g. crm:{3}:state
  KEYS[3]  outbox stream  one entry per change, field c = change JSON
  KEYS[4]  timers zset    customer id scored by next due instant (ms)
  KEYS[5]  counts hash    "<dimension>:<value>" -> members
  KEYS[6..] member sets and history lists, referenced by position from ARGV's "members" and "history"
  ARGV[1]  JSON {
             "fence":     {"expected": {topic: offset|null}, "next": {topic: offset}},
             "customers": [{"id": id, "v": version read (0 = absent), "s": new state | null (delete), "due": ms-string | null}],
             "changes":   [change JSON string, ...],
             "members":   [[key index (6..), "add" | "rem", customer id, counts field], ...],
             "history":   {"length": n, "lists": [[key index (6..), clear (0|1), entry, ...], ...]}
           }
           A history list is cleared first when asked (erasure), then gets its entries pushed
           (newest last in the argument, first in the list) and is trimmed to n.
           A member set's count moves only when the set really changed, so counts always
           equal the sets' cardinalities.

  Returns  number of changes appended (>= 0)
          -1   STALE_FENCE: the fence is not where the caller read it
          -2   FENCE_REGRESSION: a next offset is not beyond the expected one
          -3   STATE_CONFLICT: a customer's version is not the one the caller read
]]
local fenceKey, stateKey, outboxKey, timersKey, countsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local arg = cjson.decode(ARGV[1])

--- @include "checkFence"

if not checkFence(fenceKey, arg.fence.expected) then return -1 end
for topic, nextOffset in pairs(arg.fence.next) do
  local expected = arg.fence.expected[topic]
  if expected ~= nil and expected ~= cjson.null and tonumber(nextOffset) < tonumber(expected) then return -2 end
end

local function versionOf(value)
  if not value then return 0 end
  return tonumber(string.match(value, '^(%d+)|'))
end

local customers = arg.customers
local current = {}
for i, c in ipairs(customers) do
  local v = versionOf(redis.call('HGET', stateKey, c.id))
  if v ~= c.v then return -3 end
  current[i] = v
end

for topic, nextOffset in pairs(arg.fence.next) do
  redis.call('HSET', fenceKey, topic, nextOffset)
end
for i, c in ipairs(customers) do
  if c.s == cjson.null then
    redis.call('HDEL', stateKey, c.id)
  else
    redis.call('HSET', stateKey, c.id, (current[i] + 1) .. '|' .. c.s)
  end
  if c.due == cjson.null then
    redis.call('ZREM', timersKey, c.id)
  else
    redis.call('ZADD', timersKey, c.due, c.id)
  end
end
for _, change in ipairs(arg.changes) do
  redis.call('XADD', outboxKey, '*', 'c', change)
end
for _, m in ipairs(arg.members) do
  if m[2] == 'add' then
    if redis.call('SADD', KEYS[m[1]], m[3]) == 1 then redis.call('HINCRBY', countsKey, m[4], 1) end
  elseif redis.call('SREM', KEYS[m[1]], m[3]) == 1 then
    if redis.call('HINCRBY', countsKey, m[4], -1) <= 0 then redis.call('HDEL', countsKey, m[4]) end
  end
end
local history = arg.history
if history ~= nil and history ~= cjson.null then
  for _, h in ipairs(history.lists) do
    local key = KEYS[h[1]]
    if h[2] == 1 then redis.call('DEL', key) end
    if #h > 2 then
      for i = 3, #h do redis.call('LPUSH', key, h[i]) end
      redis.call('LTRIM', key, 0, history.length - 1)
    end
  end
end
return #arg.changes
