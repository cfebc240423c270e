// The peer as a whole process, the way a script using it runs: read each file, parse it with
// dmarc-report-parser, print the reports as JSON (as `dmarc-bot parse --json` prints ours).
import { readFileSync } from 'node:fs';
import { parseDmarcReportsFromXml } from 'dmarc-report-parser';

for (const path of process.argv.slice(2)) {
  const result = await parseDmarcReportsFromXml([readFileSync(path, 'utf8')]);
  if (result.reports.length === 0) {
    process.stderr.write(`${path}: no report\n`);
    process.exitCode = 1;
  }
  for (const report of result.reports) process.stdout.write(JSON.stringify({ source: path, report }) + '\n');
}
