/** The events an import produced, read back from the topic and decoded as the segmenter decodes them. */
import { decodeInput, type InputEvent, TOPICS } from '@crm/contracts';
import { readTopic } from '@crm/testkit';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { expect } from 'vitest';

/** Every record of the orders topic `topic`, decoded (registry-framed Avro via `registryUrl`, or JSON); each keyed by its customer. */
export async function readImportedOrders(kafka: Kafka, registryUrl: string, topic: string): Promise<InputEvent[]> {
  const registry = new SchemaRegistry({ host: registryUrl });
  const messages = await readTopic(kafka, topic);
  return Promise.all(
    messages.map(async (m) => {
      const decoded = await decodeInput(TOPICS.orders, m.message.value, registry);
      if (!decoded.ok) throw decoded.error;
      expect(m.message.key?.toString()).toBe(decoded.event.subject);
      return decoded.event;
    }),
  );
}
