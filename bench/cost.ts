/**
 * Cost per 1,000 recordings on AWS list prices, from the counts one recording costs
 * (bench/per-recording.ts). Every line keeps its arithmetic so that the report can show it.
 */

/**
 * On-demand list prices, us-east-1, as published in 2025 (DynamoDB's after its 1 November 2024
 * on-demand cut; Lambda's after INIT billing, 1 August 2025). Free tiers ignored. Not re-checked
 * online from the benchmark machine (it has no internet access).
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2025 list prices (DynamoDB on-demand after the 2024-11-01 cut)',
  lambdaArm64PerGbSecondUsd: 0.0000133334,
  lambdaPerMillionRequestsUsd: 0.2,
  httpApiPerMillionRequestsUsd: 1.0,
  dynamoPerMillionWriteUnitsUsd: 0.625,
  dynamoPerMillionReadUnitsUsd: 0.125,
  sqsPerMillionRequestsUsd: 0.4,
  logsIngestionPerGbUsd: 0.5,
} as const;

/** serverless.yml `provider.memorySize`. */
export const LAMBDA_MEMORY_GB = 512 / 1024;
/**
 * Lambda's own lines per invocation in text format (START, END, REPORT: about 70 + 55 + 150
 * bytes) plus CloudWatch's 26 bytes of metadata per event: an estimate, not a measurement.
 */
export const PLATFORM_LOG_BYTES_PER_INVOCATION = 70 + 55 + 150 + 3 * 26;
export const LOG_EVENT_OVERHEAD_BYTES = 26;
/**
 * An SQS event source receives each message (ReceiveMessage, possibly several per request) and
 * deletes it (DeleteMessageBatch): at most one receive and one delete per message sent.
 */
export const SQS_REQUESTS_PER_MESSAGE = 3;
const RECORDINGS = 1000;
const BYTES_PER_GB = 1024 ** 3;

export interface RecordingCounts {
  lambdaInvocations: number;
  /** Σ over functions of invocations × the median duration rounded up to the ms. */
  lambdaBilledMs: number;
  httpApiRequests: number;
  writeUnits: number;
  readUnits: number;
  messages: number;
  appLogBytes: number;
  appLogLines: number;
}

export interface CostLine {
  item: string;
  arithmetic: string;
  usd: number;
}

const usd = (value: number) => `$${value.toFixed(value < 0.01 ? 5 : 4)}`;

/** The cost of 1,000 recordings, line by line. */
export function costPerThousand(counts: RecordingCounts): { lines: CostLine[]; totalUsd: number } {
  const gbSeconds = (counts.lambdaBilledMs / 1000) * LAMBDA_MEMORY_GB * RECORDINGS;
  const logBytes =
    (counts.appLogBytes + counts.appLogLines * LOG_EVENT_OVERHEAD_BYTES + counts.lambdaInvocations * PLATFORM_LOG_BYTES_PER_INVOCATION) * RECORDINGS;
  const sqsRequests = counts.messages * SQS_REQUESTS_PER_MESSAGE * RECORDINGS;
  const lines: CostLine[] = [
    {
      item: 'Lambda requests',
      arithmetic: `${counts.lambdaInvocations.toFixed(2)} inv. × 1000 × $${PRICES.lambdaPerMillionRequestsUsd}/1M`,
      usd: (counts.lambdaInvocations * RECORDINGS * PRICES.lambdaPerMillionRequestsUsd) / 1e6,
    },
    {
      item: 'Lambda duration (arm64, 512 MB)',
      arithmetic: `${counts.lambdaBilledMs.toFixed(0)} ms × 0.5 GB × 1000 = ${gbSeconds.toFixed(1)} GB-s × $${PRICES.lambdaArm64PerGbSecondUsd}`,
      usd: gbSeconds * PRICES.lambdaArm64PerGbSecondUsd,
    },
    {
      item: 'HTTP API requests',
      arithmetic: `${counts.httpApiRequests.toFixed(2)} req. × 1000 × $${PRICES.httpApiPerMillionRequestsUsd.toFixed(2)}/1M`,
      usd: (counts.httpApiRequests * RECORDINGS * PRICES.httpApiPerMillionRequestsUsd) / 1e6,
    },
    {
      item: 'DynamoDB writes (table + indexes)',
      arithmetic: `${counts.writeUnits.toFixed(1)} WRU × 1000 × $${PRICES.dynamoPerMillionWriteUnitsUsd}/1M`,
      usd: (counts.writeUnits * RECORDINGS * PRICES.dynamoPerMillionWriteUnitsUsd) / 1e6,
    },
    {
      item: 'DynamoDB reads',
      arithmetic: `${counts.readUnits.toFixed(1)} RRU × 1000 × $${PRICES.dynamoPerMillionReadUnitsUsd}/1M`,
      usd: (counts.readUnits * RECORDINGS * PRICES.dynamoPerMillionReadUnitsUsd) / 1e6,
    },
    {
      item: 'SQS requests',
      arithmetic: `${counts.messages.toFixed(2)} msg × ${SQS_REQUESTS_PER_MESSAGE} (send, receive, delete) × 1000 × $${PRICES.sqsPerMillionRequestsUsd}/1M`,
      usd: (sqsRequests * PRICES.sqsPerMillionRequestsUsd) / 1e6,
    },
    {
      item: 'CloudWatch Logs ingestion',
      arithmetic: `(${counts.appLogBytes.toFixed(0)} B app + ${counts.appLogLines.toFixed(1)} × ${LOG_EVENT_OVERHEAD_BYTES} B + ${counts.lambdaInvocations.toFixed(2)} inv. × ${PLATFORM_LOG_BYTES_PER_INVOCATION} B platform) × 1000 = ${(logBytes / 1024 ** 2).toFixed(2)} MB × $${PRICES.logsIngestionPerGbUsd}/GB`,
      usd: (logBytes / BYTES_PER_GB) * PRICES.logsIngestionPerGbUsd,
    },
  ];
  return { lines, totalUsd: lines.reduce((sum, line) => sum + line.usd, 0) };
}

export function formatUsd(value: number): string {
  return usd(value);
}
