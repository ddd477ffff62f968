--[[
  True when every topic's fence equals what the caller read (null: never written).
  Offsets travel as decimal strings: Kafka offsets are 64-bit, Lua numbers are doubles.
]]
local function checkFence(fenceKey, expected)
  for topic, offset in pairs(expected) do
    local current = redis.call('HGET', fenceKey, topic)
    if offset == cjson.null then
      if current then return false end
    elseif current ~= offset then
      return false
    end
  end
  return true
end
