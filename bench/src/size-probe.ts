/**
 * Does the segmenter's cost grow with the customers it holds? The throughput phase's windows
 * cannot say alone: along the bench's log the input's mix changes too (kafkajs drains the
 * smaller topics first, docs/architecture.md "Flat with size"). The probe holds the mix still
 * and changes only the size: one small log of new customers (ids of their own), applied twice
 * by a fresh segmenter group, into an empty store and into the throughput phase's store (every
 * customer of the main log held). Same records, same work; the two rates and CPU per event
 * differ only by what the store holds.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import { type Endpoints, type Phase, createTopics, inputTopicsOf, isolatedPhase } from './env.ts';
import { type Encoder, inputEvents } from './data.ts';
import { round } from './procstat.ts';
import { produceEvents } from './produce.ts';
import { type SegmenterRun, segmenterCpuPerEvent, segmenterThroughput } from './throughput.ts';
import type { CpuPerEvent } from './capacity.ts';

export interface ProbeRun {
  eps: number;
  cpu_us_per_event: CpuPerEvent;
}

export interface SizeProbe {
  events: number;
  /** Customers the full store held before the probe (the main log's). */
  customers_held: number;
  empty: ProbeRun;
  full: ProbeRun;
  /** full.eps / empty.eps: 1 when the cost does not grow with the customers held. */
  full_over_empty: number;
}

export interface ProbeDeps {
  ep: Endpoints;
  admin: Admin;
  kafka: Kafka;
  redis: Redis;
  encode: Encoder;
  partitions: number;
  servers: { kafka: number | null; redis: number | null };
  /** Environment of every segmenter child on top of its phase's. */
  childEnv: Record<string, string>;
  /** Registers a phase whose keys and topics the run removes at its end. */
  track: (phase: Phase) => void;
}

const probeRun = (run: SegmenterRun): ProbeRun => ({ eps: run.eps, cpu_us_per_event: segmenterCpuPerEvent(run) });

/** Applies a probe log of `events` into an empty store and into `held`'s (holding `customers`). */
export async function sizeProbe(deps: ProbeDeps, held: Phase, customers: number, events: number): Promise<SizeProbe> {
  const { ep, admin, kafka, redis, encode, partitions, servers, childEnv, track } = deps;
  const topics = isolatedPhase(ep, 'probe', childEnv);
  track(topics);
  await createTopics(admin, topics.config, partitions);
  const actual = inputTopicsOf(topics.config);
  // The main log's shape, customers of their own ('p' ids, the main log's are 'c').
  const total = await produceEvents(kafka, actual, encode, inputEvents({ count: events, seed: 4242, idPrefix: 'p', end: Date.now(), days: 730 }));

  const suffix = topics.env['CRM_TOPIC_SUFFIX'] as string;
  const base = { CRM_TIMER_INTERVAL_MS: '3600000', CRM_TOPIC_SUFFIX: suffix, ...childEnv };
  const empty = isolatedPhase(ep, 'probe-empty', base);
  track(empty);
  // The held store's keys, under a group of its own: it reads the probe's topics from the start.
  const full = isolatedPhase(ep, 'probe-full', { ...base, CRM_KEY_PREFIX: held.config.keyPrefix });
  const emptyRun = await segmenterThroughput(redis, kafka, empty, partitions, total, servers, [], 1);
  const fullRun = await segmenterThroughput(redis, kafka, full, partitions, total, servers, [], 1);
  return {
    events: total,
    customers_held: customers,
    empty: probeRun(emptyRun),
    full: probeRun(fullRun),
    full_over_empty: round(fullRun.eps / emptyRun.eps, 3),
  };
}
