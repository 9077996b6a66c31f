import { after, describe } from 'node:test';
import { testDatabase } from '../helpers/postgres.js';
import { chaosTest } from './suite.js';

const db = await testDatabase();
after(() => db.drop());

describe('chaos on PostgreSQL', { skip: db.skip }, () => {
  chaosTest('PostgreSQL', 'pg', () => ({ JOBQ_DATABASE_URL: db.url }));
});
