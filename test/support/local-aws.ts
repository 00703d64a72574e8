/**
 * What a test file needs to reach the run's local AWS services (started once by
 * global-setup.ts) and to get its own table and queues, created from
 * serverless.yml.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws-services';
import { provisionResources, type ProvisionedResources } from '../../local/resources';

/** Stage the test resources are named for (`tic-recording-test-tasks-...`). */
export const TEST_STAGE = 'test';

/** Endpoints, region and (fake) credentials for SDK clients in a test. */
export interface LocalAws {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** The run's local AWS services; call inside a test file (not at config time). */
export function useLocalAws(): LocalAws {
  return {
    dynamoEndpoint: inject('dynamoEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
    region: LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
  };
}

// Queue names allow 80 characters; the longest base name is about 30.
const MAX_NAME_PART_CHARS = 20;
const RANDOM_SUFFIX_BYTES = 3;

/**
 * Creates a table and queues for one test file, named after `name` plus a
 * random part, so that test files running in parallel never share state.
 */
export async function provisionForTest(name: string): Promise<LocalAws & ProvisionedResources> {
  const localAws = useLocalAws();
  const namePart = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_NAME_PART_CHARS);
  const nameSuffix = `${namePart || 'test'}-${randomBytes(RANDOM_SUFFIX_BYTES).toString('hex')}`;
  const resources = await provisionResources({
    dynamoEndpoint: localAws.dynamoEndpoint,
    sqsEndpoint: localAws.sqsEndpoint,
    region: localAws.region,
    stage: TEST_STAGE,
    nameSuffix,
  });
  return { ...localAws, ...resources };
}
