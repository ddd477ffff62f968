--[[
  Commits one batch of one partition atomically: the offset fence, every touched customer's
  state (compare-and-set on its version), the segment changes appended to the outbox, the
  timers, the segment indexes (member sets and counts) and the recent-change histories.
  Nothing is written unless every check passes, so a crash or a stale writer leaves the
  partition exactly as it was.

  KEYS[1]  fence hash     topic -> next offset to apply         e.g. crm:{3}:fence
  KEYS[2]  state hash     customer id -> "<version>|<packed history>|<state>" (record.ts; the
                          history holds no '|')                 e.g. crm:{3}:state
  KEYS[3]  outbox stream  one entry per commit (per 1000 records): field r, the records in
                          emission order packed by the caller (outbox-entry.ts)
  KEYS[4]  timers zset    customer id scored by next due instant (ms)
  KEYS[5]  counts hash    "<dimension>:<value>" -> members
  KEYS[6..] member sets, one per member group of ARGV, in the same order

  ARGV is flat and positional (partition-store.ts commitArgs builds it), so the script decodes
  nothing and builds no table per customer: each section is a run of arguments handed to one
  command with unpack(). Offsets travel as decimal strings (Kafka offsets are 64-bit).
  ARGV[1..7] the section sizes: E expected fence topics, N next fence topics, C customers,
             A timers to set, D timers to clear, G member groups, P outbox entries; then
  E x  topic, offset read ('' = never written)                 the fence compare-and-set
  N x  topic, next offset                                      the fence's new position
  C    customer ids, then C versions read (0 = absent), then C new records, each one of
         ''                       delete the record
         "|<state>"               the new state; the record keeps its stored history
         "<version + 1>|<history>|<state>"   the whole new record (history '' = none)
  A x  due instant (ms), customer id                           ZADD pairs
  D    customer ids                                            ZREM
  G x  count field "<dimension>:<value>", adds a, removes r, then a customer ids to add and r
       to remove (at most one move per customer and set: partition-store.ts nets them)
  P    packed records (binary), one outbox entry each (the caller knows how many records)
  A set's count moves by what SADD/SREM really changed, so counts always equal the sets'
  cardinalities; each count field is written once per commit.

  Redis does not undo a script's writes when a later command of it fails, and an ACL is checked
  command by command: a user missing one command this script uses (say HINCRBY) would leave the
  fence moved and the counts not. So before its first write the script asks the ACL
  (redis.acl_check_cmd, Redis 7+) for every write it may make, and refuses with a NOPERM error,
  writing nothing, when one is denied.

  Returns  {backlog, last id}: the outbox length (entries) before this commit's (0: nothing
           older awaits the relay), and the stream id of the last entry appended (false when
           none)
          -1   STALE_FENCE: the fence is not where the caller read it
          -2   FENCE_REGRESSION: a next offset is not beyond the expected one
          -3   STATE_CONFLICT: a customer's version is not the one the caller read
          -4   BAD_ARGUMENT: ARGV does not add up to its section sizes
]]
local fenceKey, stateKey, outboxKey, timersKey, countsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local nExpected, nNext, nCustomers, nDue, nUndue, nGroups, nEntries =
  tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
-- unpack() is bounded by Lua's C stack (LUAI_MAXCSTACK 8000): commands take at most 4000 arguments from it.
local SLICE = 4000

-- Where each section starts.
local expectedAt = 8
local nextAt = expectedAt + 2 * nExpected
local idsAt = nextAt + 2 * nNext
local versionsAt, valuesAt = idsAt + nCustomers, idsAt + 2 * nCustomers
local dueAt = idsAt + 3 * nCustomers
local undueAt = dueAt + 2 * nDue
local groupsAt = undueAt + nUndue
local entriesAt = groupsAt
for _ = 1, nGroups do
  entriesAt = entriesAt + 3 + tonumber(ARGV[entriesAt + 1]) + tonumber(ARGV[entriesAt + 2])
end
if nGroups ~= #KEYS - 5 or entriesAt + nEntries - 1 ~= #ARGV then return -4 end

-- Calls `command` on `key` with the arguments args[from..to] (none: no call), at most SLICE at
-- a time; returns the sum of the replies (what SADD/SREM changed).
local function inSlices(command, key, args, from, to)
  local sum = 0
  for i = from, to, SLICE do
    sum = sum + redis.call(command, key, unpack(args, i, math.min(to, i + SLICE - 1)))
  end
  return sum
end

--- @include "checkFence"

-- The offsets read, as checkFence takes them (null: never written).
local expected = {}
for i = expectedAt, nextAt - 1, 2 do
  expected[ARGV[i]] = ARGV[i + 1] == '' and cjson.null or ARGV[i + 1]
end
if not checkFence(fenceKey, expected) then return -1 end
for i = nextAt, idsAt - 1, 2 do
  local read = expected[ARGV[i]]
  if read ~= nil and read ~= cjson.null and tonumber(ARGV[i + 1]) < tonumber(read) then return -2 end
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

-- The version compare-and-set, and the records to write: "<version + 1>|<history>|<state>".
local writes, deletes = {}, {}
for from = 0, nCustomers - 1, SLICE do
  local to = math.min(nCustomers, from + SLICE) - 1
  local stored = redis.call('HMGET', stateKey, unpack(ARGV, idsAt + from, idsAt + to))
  for i = from, to do
    local record = stored[i - from + 1]
    local version = 0 -- absent; a record without a version prefix matches no caller (nil)
    if record then version = tonumber(string.match(record, '^(%d+)|')) end
    if version ~= tonumber(ARGV[versionsAt + i]) then return -3 end
    local id, value = ARGV[idsAt + i], ARGV[valuesAt + i]
    if value == '' then
      deletes[#deletes + 1] = id
    else
      writes[#writes + 1] = id
      if string.byte(value) == 124 then -- '|': the record keeps its stored history
        value = (version + 1) .. '|' .. (record and string.match(record, '^%d+|([^|]*)|') or '') .. value
      end
      writes[#writes + 1] = value
    end
  end
end

-- Reads done (the last one here), the writes.
local backlog = redis.call('XLEN', outboxKey)
inSlices('HSET', fenceKey, ARGV, nextAt, idsAt - 1)
inSlices('HSET', stateKey, writes, 1, #writes)
inSlices('HDEL', stateKey, deletes, 1, #deletes)
inSlices('ZADD', timersKey, ARGV, dueAt, undueAt - 1)
inSlices('ZREM', timersKey, ARGV, undueAt, groupsAt - 1)

-- A few large entries rather than one per record: XADD's cost is per entry.
local lastId = false
for i = entriesAt, #ARGV do lastId = redis.call('XADD', outboxKey, '*', 'r', ARGV[i]) end

local at = groupsAt
for g = 1, nGroups do
  local field, adds, removes = ARGV[at], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  local delta = inSlices('SADD', KEYS[5 + g], ARGV, at + 3, at + 2 + adds)
    - inSlices('SREM', KEYS[5 + g], ARGV, at + 3 + adds, at + 2 + adds + removes)
  if delta ~= 0 and redis.call('HINCRBY', countsKey, field, delta) <= 0 then redis.call('HDEL', countsKey, field) end
  at = at + 3 + adds + removes
end
return {backlog, lastId}
