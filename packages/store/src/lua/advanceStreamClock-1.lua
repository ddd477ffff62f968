--[[
  Moves the deployment's stream clock forward: the latest event time over all partitions.

  Every segmenter member advances it with the latest event time of each batch it applies; the
  value only grows (max of the stored and the candidate), so members racing each other, or a
  member re-applying old records, never move it back.

  KEYS[1]  stream clock string (decimal epoch ms), e.g. crm:stream-clock
  ARGV[1]  candidate instant, decimal epoch ms (a non-negative integer)

  Returns  the clock after the call (decimal string: max of the stored value and the candidate)
          -4   BAD_ARGUMENT: the candidate is not a non-negative integer
]]
local candidate = ARGV[1]
if not string.match(candidate, '^%d+$') or #candidate > 15 then return -4 end
local current = redis.call('GET', KEYS[1])
if current ~= false and tonumber(current) >= tonumber(candidate) then return current end
redis.call('SET', KEYS[1], candidate)
return candidate
