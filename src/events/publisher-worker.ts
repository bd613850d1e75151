/**
 * The publisher thread's entry: a kafkajs producer (`createKafkaSender`) answering the main
 * thread's requests (publisher-protocol.ts). kafkajs's work — record batch encoding, CRC-32C,
 * the produce requests and their responses — runs here, off the event loop that serves requests.
 */
import { workerData } from 'node:worker_threads';
import type { KafkaConfig } from '../config.js';
import { createKafkaSender, kafkaMessage, type KafkaPublisherOptions } from './kafka-publisher.js';
import { forwardingLog, serveRequests } from './publisher-protocol.js';

/** What the main thread passes at the start (structured-cloned: plain data). */
export interface PublisherWorkerData {
  readonly kafka: KafkaConfig;
  readonly options: KafkaPublisherOptions;
  readonly debugEnabled: boolean;
}

const data = workerData as PublisherWorkerData;
const sender = createKafkaSender(data.kafka, forwardingLog(data.debugEnabled), data.options);

serveRequests({
  publish: (keys, values) => sender.publish(keys.map((key, i) => kafkaMessage(key, values[i] ?? ''))),
  probe: () => sender.probe(),
  close: () => sender.close(),
});
