/** Prints the config keys table of the README (markdown): `npx tsx scripts/config-table.ts`. */
import { keyDocs } from '../src/config/docs.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|');
console.log('| key | when | expected | default |\n|---|---|---|---|');
for (const d of keyDocs())
  console.log(
    `| \`${d.key}\` | ${d.when ? cell(d.when) : ''} | ${cell(d.expected)} | \`${cell(JSON.stringify(d.default))}\` |`,
  );
