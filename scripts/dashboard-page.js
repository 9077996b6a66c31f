// Copies the dashboard page's HTML and CSS next to its compiled scripts
// (dist/src/dashboard/page/), where the server reads them. Run by `npm run build`.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const from = new URL('../src/dashboard/page/', import.meta.url);
const to = new URL('../dist/src/dashboard/page/', import.meta.url);
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) {
  if (name.endsWith('.html') || name.endsWith('.css')) copyFileSync(new URL(name, from), new URL(name, to));
}
