/** The secret rule of the dashboard (src/fleet/redact.ts): each part, and what it must leave alone. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hidden, isSecretName, redactCommand, redactEnv, redactText } from '../../src/fleet/redact.js';

describe('secret names', () => {
  it('are names with a secret word, in any case or style', () => {
    for (const name of ['AWS_SECRET_ACCESS_KEY', 'HF_TOKEN', 'apiKey', 'OPENAI_API_KEY', 'db-password', 'JOBQ_CONNECTION_STRING', 'connectionString', 'PGPASSWORD_FILE', 'x.auth', 'SAS', 'SESSION_ID', 'MY_DSN', 'private_key', 'PGPASSWORD', 'GITHUB_CREDENTIALS']) {
      assert.equal(isSecretName(name), true, name);
    }
  });

  it('leave other names alone, also where a secret word is only part of a word', () => {
    for (const name of ['PATH', 'HOME', 'KEYBOARD', 'MONKEY', 'TOKENIZER', 'passage', 'CUDA_VISIBLE_DEVICES', 'seed', 'cmd', 'env', 'PASSAGES_DIR', 'MAX_TOKENS', 'NUM_KEYS']) {
      assert.equal(isSecretName(name), false, name);
    }
  });
});

describe('secrets in text', () => {
  const cases: Array<[string, string]> = [
    ['az storage blob upload --connection-string "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc+/def==;EndpointSuffix=x"', `--connection-string ${hidden}`],
    ['echo "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc+/def==;EndpointSuffix=x"', `AccountKey=${hidden};EndpointSuffix=x`],
    ['curl https://user:hunter2@example.com/data', `https://user:${hidden}@example.com/data`],
    ['azcopy copy "https://a.blob.core.windows.net/c?sv=2022&sig=abc%2Bdef&se=2026" .', `sig=${hidden}&se=2026`],
    ['curl -H "Authorization: Bearer eyJhbGciOi.xyz" https://api', `Bearer ${hidden}`],
    ['HF_TOKEN=hf_abcdef python train.py --seed 3', `HF_TOKEN=${hidden} python train.py --seed 3`],
    ["export WANDB_API_KEY='k-123'; python run.py", `WANDB_API_KEY=${hidden}; python run.py`],
    ['python upload.py --token tok-999 --out /data', `--token ${hidden} --out /data`],
    ['mysql --password=s3cret -e "select 1"', `--password=${hidden}`],
    ['InstrumentationKey=1234-5678;IngestionEndpoint=https://x', `InstrumentationKey=${hidden};IngestionEndpoint=https://x`],
  ];
  for (const [text, expected] of cases) {
    it(`hides what must not show in: ${text.slice(0, 50)}`, () => {
      const redacted = redactText(text);
      assert.ok(redacted.includes(expected), redacted);
      for (const secret of ['abc+/def==', 'hunter2', 'abc%2Bdef', 'eyJhbGciOi', 'hf_abcdef', 'k-123', 'tok-999', 's3cret', '1234-5678']) {
        assert.ok(!redacted.includes(secret), `${secret} in ${redacted}`);
      }
    });
  }

  it('leaves ordinary commands as they are', () => {
    for (const text of ['sleep 4; echo seed 11', 'python train.py --lr 0.1 --seed=3 --keyframes 5', 'SEED=3 python x.py', 'git log --format=%H', 'echo "a=b"']) {
      assert.equal(redactText(text), text);
    }
  });
});

describe('secrets in kwargs and env', () => {
  it('hides the values of secret keys in kwargs JSON, at any depth, and redacts the other strings', () => {
    const kwargs = JSON.stringify({ n: 3, password: 'p4ss', nested: { apiKey: 'k', url: 'postgres://u:pw@db/x' }, env: { HF_TOKEN: 'hf', SEED: '1' } });
    const shown = JSON.parse(redactCommand(kwargs)) as Record<string, unknown>;
    assert.deepEqual(shown, { n: 3, password: hidden, nested: { apiKey: hidden, url: `postgres://u:${hidden}@db/x` }, env: { HF_TOKEN: hidden, SEED: '1' } });
  });

  it('hides them in kwargs cut short (no longer JSON) too', () => {
    const cut = '{"seed": 3, "api_key": "abcdef", "data": "xxxxxxxx';
    const shown = redactCommand(cut);
    assert.ok(!shown.includes('abcdef'), shown);
    assert.ok(shown.includes('"seed": 3'));
  });

  it('shows env names, and values only of names that do not look secret', () => {
    assert.deepEqual(redactEnv({ API_TOKEN: 'x', SEED: '4', DATA_URL: 'https://u:pw@h/' }), { API_TOKEN: hidden, SEED: '4', DATA_URL: `https://u:${hidden}@h/` });
  });
});
