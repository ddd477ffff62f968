--[[
  Commits one batch of one partition atomically: the offset fence, every touched customer's
  state (compare-and-set on its version), the segment changes appended to the outbox, the
  timers, the segment indexes (member sets and counts) and the recent-change histories.
  Nothing is written unless every check passes, so a crash or a stale writer leaves the
  partition exactly as it was.

  KEYS[1]  fence hash     topic -> next offset to apply         e.g. crm:{3}:fence
  KEYS[2]  state hash     customer id -> "<version>|<packed history>|<state>" (record.ts; the
                          history holds no '|')                 e.g. crm:{3}:state
  KEYS[3]  outbox stream  one entry per commit (per RECORDS_PER_ENTRY records): fields k (record key,
                          the customer id) and v (record value), repeated, in emission order
  KEYS[4]  timers zset    customer id scored by next due instant (ms)
  KEYS[5]  counts hash    "<dimension>:<value>" -> members
  KEYS[6..] member sets, referenced by position from ARGV's "members"
  ARGV[1]  JSON {
             "fence":     {"expected": {topic: offset|null}, "next": {topic: offset}},
             "customers": [{"id": id, "v": version read (0 = absent), "s": new state | null (delete the record),
                            "due": ms-string | null, "h": new packed history | null (none); absent: keep the stored one}],
             "members":   [[key index (6..), "add" | "rem", customer id, counts field], ...]
           }
           A member set's count moves only when the set really changed, so counts always
           equal the sets' cardinalities; each count field is written once per commit.
  ARGV[2..] the outbox records in emission order, two arguments each: key, value (binary-safe).

  Redis does not undo a script's writes when a later command of it fails, and an ACL is checked
  command by command: a user missing one command this script uses (say HINCRBY) would leave the
  fence moved and the counts not. So before its first write the script asks the ACL
  (redis.acl_check_cmd, Redis 7+) for every write it may make, and refuses with a NOPERM error,
  writing nothing, when one is denied.

  Returns  {appended, backlog, last id}: how many records were appended, the outbox length
           (entries) before them (0: nothing older awaits the relay), and the stream id of the
           last entry appended (false when none)
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

-- A record's version and packed history ('' when none, or no record).
local function parseRecord(value)
  if not value then return 0, '' end
  local version, history = string.match(value, '^(%d+)|([^|]*)|')
  return tonumber(version), history
end

-- Every write this script may make, asked of the ACL before the first: all or nothing.
local function permitted(command, key, ...)
  if not redis.acl_check_cmd(command, key, ...) then
    return redis.error_reply('NOPERM commitBatch: this Redis user may not run ' .. command .. ' on ' .. key .. '; nothing was written')
  end
end
local denied = permitted('HSET', fenceKey, 'f', 'v') or permitted('HSET', stateKey, 'f', 'v') or permitted('HDEL', stateKey, 'f')
  or permitted('ZADD', timersKey, '0', 'm') or permitted('ZREM', timersKey, 'm') or permitted('XADD', outboxKey, '*', 'k', 'v')
  or permitted('HINCRBY', countsKey, 'f', '1') or permitted('HDEL', countsKey, 'f')
for i = 6, #KEYS do denied = denied or permitted('SADD', KEYS[i], 'm') or permitted('SREM', KEYS[i], 'm') end
if denied then return denied end

local customers = arg.customers
local versions, histories = {}, {}
for i, c in ipairs(customers) do
  local v, h = parseRecord(redis.call('HGET', stateKey, c.id))
  if v ~= c.v then return -3 end
  versions[i], histories[i] = v, h
end

for topic, nextOffset in pairs(arg.fence.next) do
  redis.call('HSET', fenceKey, topic, nextOffset)
end
for i, c in ipairs(customers) do
  if c.s == cjson.null then
    redis.call('HDEL', stateKey, c.id)
  else
    local h = histories[i]
    if c.h == cjson.null then h = '' elseif c.h ~= nil then h = c.h end
    redis.call('HSET', stateKey, c.id, (versions[i] + 1) .. '|' .. h .. '|' .. c.s)
  end
  if c.due == cjson.null then
    redis.call('ZREM', timersKey, c.id)
  else
    redis.call('ZADD', timersKey, c.due, c.id)
  end
end
-- A few large entries rather than one per record: XADD's cost is per entry, and unpack() is
-- bounded by Lua's C stack (LUAI_MAXCSTACK 8000), so at most 1000 records (4000 values) each.
local RECORDS_PER_ENTRY = 1000
local backlog = redis.call('XLEN', outboxKey)
local lastId = false
local fields = {}
for i = 2, #ARGV, 2 do
  fields[#fields + 1] = 'k'
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = 'v'
  fields[#fields + 1] = ARGV[i + 1]
  if #fields == RECORDS_PER_ENTRY * 4 or i + 1 == #ARGV then
    lastId = redis.call('XADD', outboxKey, '*', unpack(fields))
    fields = {}
  end
end
local delta, touched = {}, {}
for _, m in ipairs(arg.members) do
  local field = m[4]
  local moved
  if m[2] == 'add' then moved = redis.call('SADD', KEYS[m[1]], m[3]) else moved = -redis.call('SREM', KEYS[m[1]], m[3]) end
  if moved ~= 0 then
    if delta[field] == nil then
      delta[field] = 0
      touched[#touched + 1] = field
    end
    delta[field] = delta[field] + moved
  end
end
for _, field in ipairs(touched) do
  if delta[field] ~= 0 and redis.call('HINCRBY', countsKey, field, delta[field]) <= 0 then redis.call('HDEL', countsKey, field) end
end
return {(#ARGV - 1) / 2, backlog, lastId}
