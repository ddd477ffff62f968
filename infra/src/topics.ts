/**
 * Topic creation that also works against a broker that has just started. kafkajs's
 * `createTopics({ waitForLeaders: true })` gives up with UNKNOWN_TOPIC_OR_PARTITION when the new
 * topics' metadata is slow to appear (seen in CI and in the bench right after `infra up`); the
 * topics were created by then, so this waits for their leaders itself. A leader in the metadata
 * is not yet a leader that answers: a ListOffsets right after creation has failed in CI with
 * NOT_LEADER_FOR_PARTITION, so this also waits until every new topic answers one.
 */
import type { Admin, ITopicConfig } from 'kafkajs';

/** Creates `topics` and resolves once every partition of each has a leader (false: some existed). */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[], timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let created = true;
  try {
    created = await admin.createTopics({ topics, waitForLeaders: true });
  } catch (err) {
    if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    await waitForLeaders(admin, topics, deadline, err);
  }
  await waitForOffsets(admin, topics, deadline);
  return created;
}

/** Until every topic's partitions answer ListOffsets (their leaders serve requests). */
async function waitForOffsets(admin: Admin, topics: ITopicConfig[], deadline: number): Promise<void> {
  for (const { topic } of topics) {
    for (;;) {
      try {
        await admin.fetchTopicOffsets(topic);
        break;
      } catch (err) {
        if (!(err as { retriable?: boolean }).retriable || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

async function waitForLeaders(admin: Admin, topics: ITopicConfig[], deadline: number, cause: unknown): Promise<void> {
  const names = topics.map((t) => t.topic);
  for (;;) {
    const meta = await admin.fetchTopicMetadata({ topics: names }).catch(() => null);
    const ready =
      meta?.topics.every((m) => {
        const wanted = topics.find((t) => t.topic === m.name)?.numPartitions ?? -1;
        return m.partitions.length > 0 && (wanted < 1 || m.partitions.length === wanted) && m.partitions.every((p) => p.leader >= 0);
      }) ?? false;
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} still have partitions without a leader`, { cause });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
