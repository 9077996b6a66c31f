import { after, describe } from 'node:test';
import { startAzurite } from '../helpers/azurite.js';
import { chaosTest } from './suite.js';

const azurite = await startAzurite();
after(() => azurite.stop());

describe('chaos on Azure Storage Queue (Azurite)', () => {
  chaosTest('Azurite', 'devstoreaccount1', () => ({ JOBQ_CONNECTION_STRING: azurite.connectionString }));
});
