#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config.js';
import { ConfigError } from './errors.js';
import { closeOnSignals, startServer } from './server.js';

const HELP = `feature-store — online feature store service

Usage:
  feature-store serve            Start the HTTP service (what \`npm start\` runs)
  feature-store --help           Show this help

Configuration comes from environment variables (see .env.example and README.md), e.g.
  PORT=8015 HOST=127.0.0.1 STORE=sqlite SQLITE_PATH=./data/features.db feature-store serve
`;

function config(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  const [command] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  switch (command) {
    case 'serve': {
      const runtime = await startServer(config());
      closeOnSignals(runtime);
      return;
    }
    default:
      process.stderr.write(`Unknown command '${command}'.\n\n${HELP}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`feature-store: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
