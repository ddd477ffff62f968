/**
 * A co-partitioned assignor: partition p of every subscribed topic goes to the same member
 * (as Kafka Streams does), so one member owns all of a customer's input and that
 * partition's Redis keys. Members are ordered by id and partitions dealt round-robin, so
 * every member computes the same plan. Correctness never depends on it (the fence and the
 * per-customer CAS still guard every write); it keeps conflicts away.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const CO_PARTITIONED = 'CoPartitioned';

export function planCoPartitioned(memberIds: readonly string[], partitionsByTopic: ReadonlyMap<string, number>): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const plan = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  const maxPartitions = Math.max(0, ...partitionsByTopic.values());
  for (let p = 0; p < maxPartitions; p++) {
    const member = members[p % members.length];
    if (member === undefined) break;
    const assignment = plan.get(member) as Record<string, number[]>;
    for (const [topic, count] of partitionsByTopic) {
      if (p >= count) continue;
      const list = assignment[topic] ?? [];
      list.push(p);
      assignment[topic] = list;
    }
  }
  return plan;
}

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED,
  version: 1,
  async assign({ members, topics }) {
    const counts = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).length]));
    const plan = planCoPartitioned(
      members.map((m) => m.memberId),
      counts,
    );
    return [...plan].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: CO_PARTITIONED, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});
