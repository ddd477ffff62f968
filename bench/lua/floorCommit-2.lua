-- The bench's floor (bench/src/floor.ts): the least a batch commit can be. One call per batch
-- of one topic-partition: a small value per customer and the fence moved, atomically, only if
-- the fence is still where the caller read it (as the segmenter's commitBatch.lua checks).
-- KEYS[1] fence hash (topic -> next offset), KEYS[2] values hash (customer -> value)
-- ARGV[1] topic, ARGV[2] the fence read ('' when none), ARGV[3] the new fence,
-- ARGV[4..] customer, value, customer, value, ...
-- Reply: 1 written; error STALE_FENCE when the fence moved since it was read.
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then
  return redis.error_reply('STALE_FENCE fence ' .. tostring(current) .. ', expected ' .. ARGV[2])
end
local n = #ARGV
local i = 4
while i <= n do
  -- unpack in slices: Lua's C stack takes at most ~8000 arguments per call.
  local j = math.min(n, i + 999)
  redis.call('HSET', KEYS[2], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
