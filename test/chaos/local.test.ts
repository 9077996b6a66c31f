import { describe } from 'node:test';
import { chaosTest } from './suite.js';

describe('chaos on the local backend', () => {
  chaosTest('local', 'local', () => ({}));
});
