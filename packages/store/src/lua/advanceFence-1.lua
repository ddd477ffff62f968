--[[
  Moves a partition's offset fence forward, only from the position the caller read.

  The fence records, per input topic, the next offset to apply for one partition. A writer
  reads it, applies the records from there, and advances it here: if someone else moved it
  in between (a zombie consumer, a redelivery racing a rebalance), the advance is refused.

  KEYS[1]  fence hash (topic -> next offset), e.g. crm:{3}:fence
  ARGV[1]  JSON {"expected": {topic: offset-string | null}, "next": {topic: offset-string}}

  Returns  1   advanced
          -1   STALE_FENCE: the fence is not where the caller read it
          -2   FENCE_REGRESSION: a next offset is not beyond the expected one
]]
local fenceKey = KEYS[1]
local arg = cjson.decode(ARGV[1])

--- @include "checkFence"

local ok = checkFence(fenceKey, arg.expected)
if not ok then return -1 end
for topic, nextOffset in pairs(arg.next) do
  local expected = arg.expected[topic]
  if expected ~= nil and expected ~= cjson.null and tonumber(nextOffset) < tonumber(expected) then return -2 end
end
for topic, nextOffset in pairs(arg.next) do
  redis.call('HSET', fenceKey, topic, nextOffset)
end
return 1
