#!/usr/bin/env node
/**
 * Micro-benchmark of the domain's CPU per event, in the shape the segmenter uses it (issue #7).
 * Not a test (nothing is asserted about timing); run by hand, optionally under a profiler:
 *
 *   node packages/domain/scripts/bench-apply.ts [events=200000] [seed=1] [passes=3] [segments=sample|none]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof packages/domain/scripts/bench-apply.ts
 *
 * Input: a seeded @crm/sample-data stream (realistic histories, event-time order). Two loops:
 *  - events: per batch of BATCH events, group by customer, decodeState the stored state (once
 *    per customer per batch), apply each event, then encodeState + nextDueAt per customer;
 *  - timers: for every customer with a due time, decodeState, evaluate at the due time, then
 *    encodeState + nextDueAt (a timer firing), TIMER_ROUNDS times in a row.
 *
 * Rates are per second of CPU time of this process (steadier than wall time on a shared
 * machine). Each pass starts from an empty store. An unmeasured first pass prints a
 * fingerprint of every output (states, changes, due times): it must not move when the domain
 * is only made faster.
 */
import { createHash, type Hash } from 'node:crypto';
import type { InputEvent } from '@crm/contracts';
import { streamEvents } from '@crm/sample-data';
import { SAMPLE_SEGMENTS } from '../src/testing/segments.ts';
import { apply, type CustomerState, decodeState, encodeState, evaluate, nextDueAt, parseDomainConfig } from '../src/index.ts';

/** Events per batch: the segmenter's typical Kafka batch. */
const BATCH = 1000;
/** Timers fired per customer in the timer loop (each at the previous firing's next due time). */
const TIMER_ROUNDS = 3;
/** Events per customer the sample-data defaults give (about 3.6); sizes the population. */
const EVENTS_PER_CUSTOMER = 3.5;

const [eventsArg, seedArg, passesArg, segmentsArg] = process.argv.slice(2);
const eventCount = Number(eventsArg ?? 200_000);
const seed = Number(seedArg ?? 1);
const passes = Number(passesArg ?? 3);

/**
 * Defaults plus a few custom segments of the kinds operators define (time-ticking ones
 * included), or with `none` the defaults alone (the segmenter's config when none is given).
 */
const config = parseDomainConfig(segmentsArg === 'none' ? {} : { segments: SAMPLE_SEGMENTS });

interface Stored {
  state: string;
  dueAt: number | null;
}

function loadEvents(): InputEvent[] {
  const customers = Math.ceil(eventCount / EVENTS_PER_CUSTOMER);
  const events: InputEvent[] = [];
  for (const e of streamEvents({ seed, customers })) {
    if (events.length >= eventCount) break;
    events.push(e);
  }
  return events;
}

/** The segmenter's batch loop over every event; returns the store it leaves behind. */
function runEvents(events: readonly InputEvent[], fingerprint: Hash | null): Map<string, Stored> {
  const store = new Map<string, Stored>();
  for (let start = 0; start < events.length; start += BATCH) {
    const states = new Map<string, CustomerState | null>();
    for (let i = start; i < Math.min(start + BATCH, events.length); i++) {
      const event = events[i] as InputEvent;
      const id = event.subject;
      if (!states.has(id)) {
        const stored = store.get(id);
        states.set(id, stored === undefined ? null : decodeState(stored.state));
      }
      const res = apply(states.get(id) ?? null, event, config, { topic: 'bench', partition: 0, offset: String(i) });
      states.set(id, res.state);
      fingerprint?.update(JSON.stringify([res.outcome, res.changes]));
    }
    for (const [id, state] of states) {
      if (state === null) continue;
      const write = { state: encodeState(state), dueAt: nextDueAt(state, config) };
      store.set(id, write);
      fingerprint?.update(`${write.state}@${write.dueAt}`);
    }
  }
  return store;
}

/** Fires every due timer TIMER_ROUNDS times; returns the number of firings. */
function runTimers(store: Map<string, Stored>, fingerprint: Hash | null): number {
  let fired = 0;
  for (let round = 0; round < TIMER_ROUNDS; round++) {
    for (const [id, stored] of store) {
      if (stored.dueAt === null) continue;
      const evaluated = evaluate(decodeState(stored.state), stored.dueAt, config);
      const write = { state: encodeState(evaluated.state), dueAt: nextDueAt(evaluated.state, config) };
      store.set(id, write);
      fired++;
      fingerprint?.update(JSON.stringify(evaluated.changes));
      fingerprint?.update(`${write.state}@${write.dueAt}`);
    }
  }
  return fired;
}

/** Rate per second of CPU time (user + system) spent: steadier than wall time on a shared machine. */
const rate = (n: number, cpuMicros: number): string => `${Math.round((n / cpuMicros) * 1e6).toLocaleString('en-US')}/s`;
/** CPU time of this process so far, in microseconds. */
const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const events = loadEvents();
const customers = new Set(events.map((e) => e.subject)).size;
console.log(
  `${events.length} events, ${customers} customers, seed ${seed}, ${config.segments.length} custom segments, batches of ${BATCH}, node ${process.version}`,
);

const fingerprint = createHash('sha256');
runTimers(runEvents(events, fingerprint), fingerprint);
console.log(`fingerprint ${fingerprint.digest('hex').slice(0, 16)} (outputs of the unmeasured first pass)`);

for (let pass = 1; pass <= passes; pass++) {
  const t0 = cpuNow();
  const store = runEvents(events, null);
  const t1 = cpuNow();
  const fired = runTimers(store, null);
  const t2 = cpuNow();
  console.log(
    `pass ${pass}: events ${rate(events.length, t1 - t0)} (${((t1 - t0) / 1000).toFixed(0)} ms CPU), ` +
      `timers ${rate(fired, t2 - t1)} (${fired} in ${((t2 - t1) / 1000).toFixed(0)} ms CPU)`,
  );
}
