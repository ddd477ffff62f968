import { describe, expect, it } from 'vitest';
import { capacity, sizing } from './capacity.ts';

const cpu = { segmenter: 40, redis: 16, kafka: 4 };

describe('capacity', () => {
  it('bounds one instance by its one core', () => {
    const c = capacity(cpu, { instances: 1, partitions: 6, redisShards: 1, sharedCores: null });
    expect(c).toEqual({ instance_eps: 25_000, redis_shard_eps: 62_500, machine_eps: null, predicted_eps: 25_000, bound: 'segmenter' });
  });

  it('moves the bound to Redis when instances are added, and to the machine when cores are shared', () => {
    expect(capacity(cpu, { instances: 4, partitions: 6, redisShards: 1, sharedCores: null })).toMatchObject({ predicted_eps: 62_500, bound: 'redis' });
    // 2 cores for 60 µs of work per event: 33,333 events/s, whatever the instances.
    expect(capacity(cpu, { instances: 2, partitions: 6, redisShards: 1, sharedCores: 2 })).toMatchObject({
      machine_eps: 33_333,
      predicted_eps: 33_333,
      bound: 'machine',
    });
  });

  it('bounds an instance by its JavaScript thread when that is measured', () => {
    const c = capacity({ ...cpu, js_thread: 32 }, { instances: 1, partitions: 6, redisShards: 1, sharedCores: 2 });
    expect(c).toMatchObject({ instance_eps: 31_250, machine_eps: 33_333, predicted_eps: 31_250, bound: 'segmenter' });
  });

  it('gives no instance beyond the partitions any work', () => {
    const c = capacity(cpu, { instances: 12, partitions: 6, redisShards: 12, sharedCores: null });
    expect(c).toMatchObject({ predicted_eps: 150_000, bound: 'segmenter' });
  });

  it('says nothing without the figures', () => {
    expect(capacity({ ...cpu, segmenter: null }, { instances: 1, partitions: 6, redisShards: 1, sharedCores: 2 })).toBeNull();
  });
});

describe('sizing', () => {
  it('rounds instances and shards up at the headroom', () => {
    // 100,000 events/s × 40 µs = 4 cores of segmenter; at 0.5 of a core each, 8 instances.
    expect(sizing(cpu, 100_000, 0.5, 12)).toEqual({ instances: 8, redisShards: 4 });
    expect(sizing(cpu, 1_000, 0.5, 6)).toEqual({ instances: 1, redisShards: 1 });
  });

  it('refuses a rate that needs more instances than partitions', () => {
    expect(sizing(cpu, 100_000, 0.5, 6)).toBeNull();
  });
});
